"""History as partitioned Parquet (the lake) and the statistics that grow with it, on Spark or DuckDB.

- :mod:`ecohub.lake.layout`: the hive-style layout and the Arrow schema of the observation files;
- :mod:`ecohub.lake.sync`: ``ecohub lake sync``, incremental copy from the database (never rewrites a file);
- :mod:`ecohub.lake.daily`: the station daily values and AQI, one pure definition used by every engine;
- :mod:`ecohub.lake.spark_jobs`: the same statistics as PySpark jobs (``local[2]`` or a cluster);
- :mod:`ecohub.lake.spark_stats`: HJ 663 period evaluation and city ranking, completeness, emissions on Spark,
  each with the embedded path's pure function.
"""
