using System.Globalization;
using Npgsql;

namespace CallNotify.Bench;

/// <summary>
/// What PostgreSQL wrote to its WAL over the measured window, and how many transactions the service's database
/// committed: two snapshots of <c>pg_stat_wal</c> (server-wide; the benchmark's scenarios run one at a time) and of
/// <c>pg_stat_database</c>. Both are flushed by the backends about once a second, so a window's figures are good to a
/// second's worth of traffic. Each commit flushes the WAL written before it; the bytes per webhook are what that
/// flush has to write, full-page images (the first change of a page after a checkpoint) included. The flushes' count
/// and, when the server runs with <c>track_wal_io_timing</c> (the server <c>bench/run.sh</c> starts does), their mean
/// time: how long a durable round trip waits for the disk.
/// </summary>
internal sealed record WalUse(long Records, long FullPageImages, long Bytes, long Commits, long Syncs, double SyncMs, bool SyncTimed)
{
    private const string Query = """
        SELECT w.wal_records, w.wal_fpi, w.wal_bytes::bigint, d.xact_commit, w.wal_sync, w.wal_sync_time,
               current_setting('track_wal_io_timing')::bool
        FROM pg_stat_wal w, pg_stat_database d
        WHERE d.datname = current_database()
        """;

    /// <summary>The counters now; null when the server has no <c>pg_stat_wal</c> (before PostgreSQL 14) or refuses it.</summary>
    public static async Task<WalUse?> ReadAsync(string database, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(database);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand(Query, connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken)
                ? new WalUse(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetDouble(5), reader.GetBoolean(6))
                : null;
        }
        catch (PostgresException)
        {
            return null;
        }
    }

    public static WalUse? Between(WalUse? start, WalUse? end) =>
        start is null || end is null
            ? null
            : new WalUse(
                end.Records - start.Records,
                end.FullPageImages - start.FullPageImages,
                end.Bytes - start.Bytes,
                end.Commits - start.Commits,
                end.Syncs - start.Syncs,
                end.SyncMs - start.SyncMs,
                end.SyncTimed);

    /// <summary>"WAL 2.1 kB (14.0 records, 0.12 full-page images) and 0.31 transactions per webhook" (read-only ones, the lookups', included).</summary>
    public string Describe(long answers) => answers <= 0
        ? "no answers to divide by"
        : string.Create(
            CultureInfo.InvariantCulture,
            $"WAL {Bytes / 1000.0 / answers:0.00} kB ({(double)Records / answers:0.0} records, {(double)FullPageImages / answers:0.00} full-page images) and {(double)Commits / answers:0.00} transactions per webhook; {Flushes}");

    /// <summary>"12,345 WAL flushes, 0.61 ms each" (the mean only when track_wal_io_timing is on).</summary>
    private string Flushes => string.Create(
        CultureInfo.InvariantCulture,
        $"{Syncs:N0} WAL flushes{(SyncTimed && Syncs > 0 ? string.Create(CultureInfo.InvariantCulture, $", {SyncMs / Syncs:0.00} ms each") : " (not timed)")}");

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Bytes / 1e6:N1} MB of WAL in {Records:N0} records ({FullPageImages:N0} full-page images), {Commits:N0} transactions committed, {Flushes}");
}
