"""Public records: their rules, schemas, files on disk, validation and import."""
