"""Batch inference spread over a Dask cluster (docs/scaleout.md); knows nothing of the repository.

``plan`` cuts a dataset's files into chunks, ``reading`` gives a worker a
chunk's rows (from the store on a shared file system, or from a remote through
fsspec, checked against its sha256), ``worker`` runs one chunk, ``cluster``
starts or reaches the cluster, ``engine`` feeds the chunks to it and hands the
outputs back in order.
"""
