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
