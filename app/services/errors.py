"""The database faults the interface and the command line may meet, for them to import.

They are defined in ``app.storage.errors``; the interface must not import the storage layer,
so this module hands them on. Each carries a message meant for the user.
"""

from app.storage.errors import (
    DatabaseCorrupt,
    DatabaseLocked,
    DatabaseLoginFailed,
    DatabaseReadOnly,
    DatabaseTooNew,
    DatabaseUnreachable,
    DiskFull,
    MigrationFailed,
    StorageError,
)

__all__ = [
    "DatabaseCorrupt",
    "DatabaseLocked",
    "DatabaseLoginFailed",
    "DatabaseReadOnly",
    "DatabaseTooNew",
    "DatabaseUnreachable",
    "DiskFull",
    "MigrationFailed",
    "StorageError",
]
