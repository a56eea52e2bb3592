using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace CallNotify.Infrastructure.Persistence;

internal static class StoreErrors
{
    /// <summary>True when the save broke a unique constraint (or primary key), on either provider.</summary>
    public static bool IsUniqueViolation(DbUpdateException exception) => exception.InnerException switch
    {
        PostgresException pg => pg.SqlState == PostgresErrorCodes.UniqueViolation,

        // SQLITE_CONSTRAINT_UNIQUE (2067) and SQLITE_CONSTRAINT_PRIMARYKEY (1555).
        SqliteException sqlite => sqlite.SqliteExtendedErrorCode is 2067 or 1555,
        _ => false,
    };

    /// <summary>
    /// True when a plain Npgsql write appended an event whose (delivery, sequence) another writer took first (ADR 0021).
    /// </summary>
    public static bool IsEventConflict(PostgresException exception) =>
        exception.SqlState == PostgresErrorCodes.UniqueViolation && exception.TableName == "delivery_events";

    /// <summary>
    /// True when a plain Npgsql write recorded a message (account, twi_message_id) that another transaction recorded
    /// first, between the write's check and its insert.
    /// </summary>
    public static bool IsMessageConflict(PostgresException exception) =>
        exception.SqlState == PostgresErrorCodes.UniqueViolation && exception.TableName == "call_notifications";
}
