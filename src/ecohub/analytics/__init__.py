"""Analytics on stored data with the national standards: AQI per site and city (hourly, daily), city
rankings by the HJ 663 comprehensive index, GB 3838 water quality of each section. Reads go through the
query layer (``ecohub.store.queries``) with the caller's scope, so the API, the web and the worker share them."""
