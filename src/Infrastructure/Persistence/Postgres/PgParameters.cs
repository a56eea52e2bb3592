using Npgsql;
using NpgsqlTypes;

namespace CallNotify.Infrastructure.Persistence.Postgres;

/// <summary>Typed positional parameters for the plain-Npgsql statements (instants always as UTC <c>timestamptz</c>).</summary>
internal static class PgParameters
{
    internal static NpgsqlParameter Text(string? value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };

    internal static NpgsqlParameter Time(DateTimeOffset value) =>
        new NpgsqlParameter<DateTimeOffset> { NpgsqlDbType = NpgsqlDbType.TimestampTz, TypedValue = value.ToUniversalTime() };

    internal static NpgsqlParameter<string?[]> TextArray(string?[] values) =>
        new NpgsqlParameter<string?[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, TypedValue = values };

    internal static NpgsqlParameter<int[]> IntArray(int[] values) =>
        new NpgsqlParameter<int[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer, TypedValue = values };

    internal static NpgsqlParameter<DateTimeOffset?[]> TimeArray(DateTimeOffset?[] values) =>
        new NpgsqlParameter<DateTimeOffset?[]>
        {
            NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz,
            TypedValue = [.. values.Select(v => v?.ToUniversalTime())],
        };
}
