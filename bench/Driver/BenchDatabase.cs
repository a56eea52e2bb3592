using Npgsql;

namespace CallNotify.Bench;

/// <summary>
/// The PostgreSQL side: a fresh database per scenario (created and dropped through the server's maintenance
/// connection), the server's description, and the check that every answered notification was recorded.
/// </summary>
internal static class BenchDatabase
{
    public static async Task<string> CreateAsync(string server, string name, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync(cancellationToken);
        await using (var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        return new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    }

    /// <summary>Notifications (each with one delivery and its two events) put in before measuring; see <see cref="SeedAsync"/>.</summary>
    public const int SeededNotifications = 200_000;

    /// <summary>Bindings of other identities put in before measuring.</summary>
    public const int SeededBindings = 20_000;

    /// <summary>
    /// Gives the service's tables a realistic size before measuring (a fresh, empty database plans and costs
    /// differently: issue #14): a day's worth of past notifications, each with a delivery and its history, and other
    /// callees' bindings, all under an account the benchmark never calls; then VACUUM and ANALYZE, as autovacuum would
    /// have, and a CHECKPOINT.
    /// Runs after the service's migrations.
    /// </summary>
    public static async Task SeedAsync(string database, CancellationToken cancellationToken)
    {
        const string other = "'AC00000000000000000000000000000000'";
        var sql = $"""
            INSERT INTO call_notifications (id, account_sid, twi_message_id, call_sid, "from", "to", "identity", message_type,
                                            raw_body, received_at, expires_at)
            SELECT 'NTseed' || g, {other}, 'WBseed' || g, 'CAseed' || g, 'client:alice', 'client:seed' || (g % 5000),
                   'seed' || (g % 5000), 'twilio.voice.call', decode('7b7d', 'hex'), now() - interval '1 day' + g * interval '400 ms',
                   now() - interval '1 day' + g * interval '400 ms' + interval '30 s'
            FROM generate_series(1, {SeededNotifications}) g;
            INSERT INTO deliveries (id, notification_id, binding_id, session_id, channel, created_at)
            SELECT 'DLseed' || g, 'NTseed' || g, NULL, 'WSseed' || g, 'websocket', now() - interval '1 day' + g * interval '400 ms'
            FROM generate_series(1, {SeededNotifications}) g;
            INSERT INTO delivery_events (delivery_id, sequence, at, kind, detail, due_at)
            SELECT 'DLseed' || g, s, now() - interval '1 day' + g * interval '400 ms', k, NULL, NULL
            FROM generate_series(1, {SeededNotifications}) g, unnest(ARRAY['accepted', 'acknowledged']) WITH ORDINALITY AS e(k, s)
            ORDER BY g;
            INSERT INTO bindings (id, account_sid, "identity", channel, address, address_hash, environment, app_id, status,
                                  inactive_reason, created_at, updated_at, expires_at, last_delivery_at)
            SELECT 'BDseed' || g, {other}, 'seed' || (g % 5000), 'fcm', 'seed-token-' || g,
                   encode(sha256(convert_to('seed-token-' || g, 'UTF8')), 'hex'), 'production', NULL, 'active',
                   NULL,
                   now(), now(), now() + interval '365 days', NULL
            FROM generate_series(1, {SeededBindings}) g;
            """;
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(cancellationToken);
        await using (var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 300 })
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        // What autovacuum would otherwise do inside the measured window: 200,000 inserted rows pass its insert
        // threshold, so it would vacuum the three tables a minute later. VACUUM cannot run in a batch, hence alone.
        await using (var vacuum = new NpgsqlCommand("VACUUM (ANALYZE)", connection) { CommandTimeout = 300 })
        {
            await vacuum.ExecuteNonQueryAsync(cancellationToken);
        }

        if (!await CheckpointAsync(connection, cancellationToken))
        {
            CheckpointRefused = true;
        }
    }

    /// <summary>Whether some scenario's server refused the CHECKPOINT after seeding (the report says so).</summary>
    public static bool CheckpointRefused { get; private set; }

    /// <summary>
    /// Writes the seed's dirty pages out before measuring, so that neither the checkpointer nor the kernel's writeback
    /// competes with the measured commits' WAL flushes. Needs superuser or pg_checkpoint (PostgreSQL 15); on a server
    /// that refuses it the benchmark goes on and its report says so.
    /// </summary>
    private static async Task<bool> CheckpointAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await using var checkpoint = new NpgsqlCommand("CHECKPOINT", connection) { CommandTimeout = 300 };
            await checkpoint.ExecuteNonQueryAsync(cancellationToken);
            return true;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            Console.WriteLine($"seeding: CHECKPOINT refused ({e.MessageText}); measuring without it");
            return false;
        }
    }

    public static async Task DropAsync(string server, string name)
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync(CancellationToken.None);
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync(CancellationToken.None);
    }

    /// <summary><c>version()</c>, and the durability settings the figures were taken with.</summary>
    public static async Task<string> DescribeAsync(string server, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT version(), current_setting('fsync'), current_setting('synchronous_commit'), current_setting('max_connections')",
            connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var version = reader.GetString(0);
        var comma = version.IndexOf(',', StringComparison.Ordinal);
        return $"{(comma > 0 ? version[..comma] : version)} (fsync {reader.GetString(1)}, synchronous_commit {reader.GetString(2)}, max_connections {reader.GetString(3)})";
    }

    /// <summary>The <c>twi_message_id</c>s recorded for the account (table <c>call_notifications</c>).</summary>
    public static async Task<HashSet<string>> RecordedMessageIdsAsync(string database, string accountSid, CancellationToken cancellationToken)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT twi_message_id FROM call_notifications WHERE account_sid = @account", connection);
        command.Parameters.AddWithValue("account", accountSid);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    /// <summary>Live WebSocket sessions registered in the store (table <c>live_sessions</c>), every instance's.</summary>
    public static async Task<long> LiveSessionsAsync(string database, string accountSid, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM live_sessions WHERE account_sid = @account", connection);
        command.Parameters.AddWithValue("account", accountSid);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
