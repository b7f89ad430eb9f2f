"""Attachments' bytes (附件): content-addressed storage and the check of what is uploaded.

``port.BlobStore`` is the interface; ``folder.FolderBlobs`` the embedded implementation (a
private folder beside the store, each blob encrypted with the events' cipher). An
S3-compatible bucket would be another implementation of the same port (docs/operations.md).
"""
