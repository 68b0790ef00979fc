"""API v1 routers, one per area. Each reads the caller from ``request.state.principal`` (set by the
middleware) and passes its scope to the query layer (which also applies the request's scope by itself)."""
