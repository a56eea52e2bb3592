using System.Text;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Application.Common.Options;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using CallNotify.Infrastructure.Persistence;
using CallNotify.Infrastructure.Persistence.Postgres;
using Npgsql;
using InfrastructureSetup = CallNotify.Infrastructure.DependencyInjection;

namespace CallNotify.Api.IntegrationTests.Store;

/// <summary>
/// The webhook path's batched statements (the group commit's writes and the grouped lookup) must not degrade with the batch they carry: PostgreSQL's own plan, executed
/// (EXPLAIN ANALYZE) at 1, 16 and 256 writes, may compare each row with a bounded number of others, never with the whole
/// batch. A nested loop that rescans the batch shows as "Rows Removed by Join Filter" growing with its square.
/// </summary>
[NonParallelizable]
public sealed class BatchPlanTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private TestStore _store = null!;
    private string _planMode = "auto";
    private NpgsqlDataSource _dataSource = null!;

    [OneTimeSetUp]
    public async Task CreateStoreAsync()
    {
        _store = await TestStore.CreateMigratedPostgresAsync();

        _dataSource = NpgsqlDataSource.Create(_store.ConnectionString);

        // Other callees' rows, so that reading the whole table is not the cheap way to find a batch's few.
        await using var others = _dataSource.CreateCommand("""
            INSERT INTO bindings (id, account_sid, "identity", channel, address, address_hash, environment, app_id, status,
                                  inactive_reason, created_at, updated_at, expires_at, last_delivery_at)
            SELECT 'BDother' || g, 'AC0123456789abcdef0123456789abcdef', 'other-' || (g % 2000), 'fcm', 'other-token-' || g,
                   md5('other' || g) || md5('token' || g), 'production', NULL, 'active', NULL, now(), now(), now() + interval '1 day', NULL
            FROM generate_series(1, 20000) g;
            ANALYZE bindings;
            """);
        await others.ExecuteNonQueryAsync();
    }

    [OneTimeTearDown]
    public async Task DropStoreAsync()
    {
        await _dataSource.DisposeAsync();
        await _store.DisposeAsync();
    }

    /// <remarks>
    /// The service's statements are prepared (auto-prepare), and after a few runs PostgreSQL may keep a generic plan,
    /// made without the arrays' sizes: both kinds of plan are checked.
    /// </remarks>
    [Test]
    public async Task RecordingNotificationsAndTheirEventsComparesEachRowWithABoundedNumberOfOthers(
        [Values(1, 16, 256)] int batch, [Values("force_custom_plan", "force_generic_plan")] string planMode)
    {
        _planMode = planMode;
        // Two deliveries per notification, as for a callee with two clients.
        var notifications = Enumerable.Range(0, batch).Select(_ => Notification(clients: 2)).ToList();
        var insert = await ExplainAsync(NotificationInsert.Statement.Build([.. notifications.Select(n => new NotificationInsert(n))]));

        var appends = notifications.Select(n =>
        {
            n.RecordResult(n.Deliveries[0].Id, DeliveryResult.Accepted(), Now.AddSeconds(1));
            return (GroupWrite)new DeliveryEventsAppend([.. n.Deliveries[0].Events.Select(e => EventRow.Of(n.Deliveries[0], e))]);
        }).ToList();
        var append = await ExplainAsync(DeliveryEventsAppend.Statement.Build(appends));

        TestContext.Out.WriteLine($"batch {batch}, {planMode}: join filters discarded {insert.RemovedByJoinFilter} rows in the insert, {append.RemovedByJoinFilter} in the event append");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(insert.Applied, Is.EqualTo(batch), "every insert applied");
            Assert.That(append.Applied, Is.EqualTo(batch), "every append applied");
            Assert.That(insert.RemovedByJoinFilter, Is.LessThanOrEqualTo(4 * batch), "the insert compares each row with a few others at most");
            Assert.That(append.RemovedByJoinFilter, Is.LessThanOrEqualTo(4 * batch), "the append compares each row with a few others at most");
        }
    }

    [Test]
    public async Task TheLookupAndTheDeliveryStampCompareEachRowWithABoundedNumberOfOthers(
        [Values(1, 16, 256)] int batch, [Values("force_custom_plan", "force_generic_plan")] string planMode)
    {
        _planMode = planMode;
        var run = Guid.NewGuid().ToString("N")[..8];
        await using (var seed = _dataSource.CreateCommand($"""
            INSERT INTO bindings (id, account_sid, "identity", channel, address, address_hash, environment, app_id, status,
                                  inactive_reason, created_at, updated_at, expires_at, last_delivery_at)
            SELECT 'BD{run}' || g, 'AC0123456789abcdef0123456789abcdef', '{run}-' || g, 'fcm', '{run}-token-' || g,
                   md5('{run}' || g) || md5('{run}-' || g), 'production', NULL, 'active', NULL, now(), now(), now() + interval '1 day', NULL
            FROM generate_series(1, {batch}) g
            """))
        {
            await seed.ExecuteNonQueryAsync();
        }

        var (bindings, sessions) = PostgresCalleeLookup.Statements(
            [.. Enumerable.Range(1, batch).Select(i => ("AC0123456789abcdef0123456789abcdef", $"{run}-{i}", Now))]);
        var lookup = await ExplainAsync(bindings);
        var presence = await ExplainAsync(sessions);
        // (A custom plan may rightly read a small table whole to stamp a large batch, so only the join filters are checked.)
        var stamp = await ExplainAsync(BindingDeliveryStamp.Statement.Build(
            [.. Enumerable.Range(1, batch).Select(i => (GroupWrite)new BindingDeliveryStamp($"BD{run}{i}", Now))]));

        TestContext.Out.WriteLine($"batch {batch}, {planMode}: join filters discarded {lookup.RemovedByJoinFilter} rows in the binding lookup, {presence.RemovedByJoinFilter} in the session lookup, {stamp.RemovedByJoinFilter} in the stamp");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(lookup.Applied, Is.EqualTo(batch), "every callee's binding found");
            Assert.That(stamp.Applied, Is.EqualTo(batch), "every stamp applied");
            Assert.That(lookup.RemovedByJoinFilter, Is.LessThanOrEqualTo(4 * batch));
            Assert.That(lookup.Examined, Is.LessThanOrEqualTo((4 * batch) + 16), "the lookup reads its callees' bindings, not the table");
            Assert.That(presence.RemovedByJoinFilter, Is.LessThanOrEqualTo(4 * batch));
            Assert.That(stamp.RemovedByJoinFilter, Is.LessThanOrEqualTo(4 * batch));
        }
    }

    [Test]
    public async Task TheRecordReadsOnlyItsCalleesClientsAndComparesEachRowWithABoundedNumberOfOthers(
        [Values(1, 16, 256)] int batch, [Values("force_custom_plan", "force_generic_plan")] string planMode)
    {
        _planMode = planMode;
        var run = Guid.NewGuid().ToString("N")[..8];
        await SeedCalleesAsync(run, batch);
        var records = Enumerable.Range(1, batch).Select(i => (GroupWrite)new NotificationRecord(Incoming($"{run}-{i}"))).ToList();

        var record = await ExplainAsync(NotificationRecord.Statement.Build(records));

        TestContext.Out.WriteLine($"batch {batch}, {planMode}: join filters discarded {record.RemovedByJoinFilter} rows, {record.Examined} binding rows examined");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(record.Applied, Is.EqualTo(2 * batch), "each call recorded with its callee's binding and session");
            Assert.That(record.RemovedByJoinFilter, Is.LessThanOrEqualTo(4 * batch));
            Assert.That(record.Examined, Is.LessThanOrEqualTo((4 * batch) + 16), "the record reads its callees' bindings, not the table");
        }
    }

    /// <remarks>
    /// The batched statements' data source keeps one generic plan per statement, made at its first run on a connection
    /// and kept until the table's statistics change. A plan made while <c>live_sessions</c> held a few rows must not read
    /// the whole table for each callee once it holds thousands, before anything has analyzed it again.
    /// </remarks>
    [Test]
    public async Task TheRecordsGenericPlanMadeWhileSessionsWereFewReadsOnlyItsCalleesOnceTheyAreMany()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var batched = InfrastructureSetup.CreateDataSource(_store.ConnectionString, new StoreBudgetOptions(), genericPlans: true);
        var options = new NpgsqlConnectionStringBuilder(batched.ConnectionString).Options;
        await batched.DisposeAsync();
        await using (var quiet = _dataSource.CreateCommand("ALTER TABLE live_sessions SET (autovacuum_enabled = false); DELETE FROM live_sessions; ANALYZE live_sessions"))
        {
            await quiet.ExecuteNonQueryAsync();
        }

        await SeedCalleesAsync(run, 4);
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_store.ConnectionString) { Options = options }.ConnectionString);
        await connection.OpenAsync();
        var first = NotificationRecord.Statement.Build([.. Enumerable.Range(1, 4).Select(i => (GroupWrite)new NotificationRecord(Incoming($"{run}-{i}")))]);
        await using (var prepare = new NpgsqlCommand("PREPARE kept AS " + first.CommandText, connection))
        {
            await prepare.ExecuteNonQueryAsync();
        }

        await using (var small = new NpgsqlCommand($"EXECUTE kept({Arguments(first)})", connection))
        {
            await small.ExecuteNonQueryAsync();
        }

        await using (var grow = _dataSource.CreateCommand($"""
            INSERT INTO live_sessions (id, instance_id, account_sid, "identity", connected_at)
            SELECT 'WS{run}many' || g, 'IN{run}', 'AC0123456789abcdef0123456789abcdef', '{run}-many-' || g, now()
            FROM generate_series(1, 5000) g
            """))
        {
            await grow.ExecuteNonQueryAsync();
        }

        var again = NotificationRecord.Statement.Build([.. Enumerable.Range(1, 4).Select(i => (GroupWrite)new NotificationRecord(Incoming($"{run}-{i}")))]);
        await using var explain = new NpgsqlCommand($"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE kept({Arguments(again)})", connection);
        var plan = JsonDocument.Parse((string)(await explain.ExecuteScalarAsync())!).RootElement[0].GetProperty("Plan");
        var examined = Examined(plan, "live_sessions");

        TestContext.Out.WriteLine($"options '{options}': {examined} live_sessions rows examined for 4 callees among 5,004 sessions");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(plan.GetProperty("Actual Rows").GetInt64(), Is.EqualTo(8), "each call recorded with its callee's binding and session");
            Assert.That(examined, Is.LessThanOrEqualTo(16), "the kept plan reads each callee's sessions by index, not the table");
        }
    }

    /// <summary>Callees <c>{run}-1</c> … <c>{run}-{count}</c>, each with one active FCM binding and one live session on a fresh instance.</summary>
    private async Task SeedCalleesAsync(string run, int count)
    {
        await using var seed = _dataSource.CreateCommand($"""
            INSERT INTO bindings (id, account_sid, "identity", channel, address, address_hash, environment, app_id, status,
                                  inactive_reason, created_at, updated_at, expires_at, last_delivery_at)
            SELECT 'BD{run}' || g, 'AC0123456789abcdef0123456789abcdef', '{run}-' || g, 'fcm', '{run}-token-' || g,
                   md5('{run}' || g) || md5('{run}-' || g), 'production', NULL, 'active', NULL, now(), now(), now() + interval '1 day', NULL
            FROM generate_series(1, {count}) g;
            INSERT INTO instances (id, heartbeat_at) VALUES ('IN{run}', now()) ON CONFLICT (id) DO UPDATE SET heartbeat_at = now();
            INSERT INTO live_sessions (id, instance_id, account_sid, "identity", connected_at)
            SELECT 'WS{run}' || g, 'IN{run}', 'AC0123456789abcdef0123456789abcdef', '{run}-' || g, now()
            FROM generate_series(1, {count}) g;
            """);
        await seed.ExecuteNonQueryAsync();
    }

    private static IncomingCall Incoming(string identity) =>
        CallNotification.Arrive(
            AccountSid.Parse("AC0123456789abcdef0123456789abcdef"), "WB" + Guid.NewGuid().ToString("N"), "CA1", "client:alice", "client:" + identity,
            ClientIdentity.Parse(identity), "twilio.voice.call", Encoding.UTF8.GetBytes("{}"), DateTimeOffset.UtcNow, TimeSpan.FromSeconds(30));

    private static CallNotification Notification(int clients) =>
        CallNotification.Receive(
            AccountSid.Parse("AC0123456789abcdef0123456789abcdef"), "WB" + Guid.NewGuid().ToString("N"), "CA1", "client:alice", "client:bob",
            ClientIdentity.Parse("bob"), "twilio.voice.call", Encoding.UTF8.GetBytes("{}"), Now, TimeSpan.FromSeconds(30),
            [.. Enumerable.Range(0, clients).Select(i => DeliveryTarget.ForSession("WS" + i))]);

    /// <summary>Runs the statement under EXPLAIN ANALYZE (so it is applied) and sums what its join filters discarded.</summary>
    private async Task<(long RemovedByJoinFilter, long Applied, long Examined)> ExplainAsync(NpgsqlBatchCommand statement)
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using (var mode = new NpgsqlCommand($"SET plan_cache_mode = {_planMode}", connection))
        {
            await mode.ExecuteNonQueryAsync();
        }

        // A named prepared statement, as the service's auto-prepare makes: the plan mode decides custom or generic.
        await using (var prepare = new NpgsqlCommand("PREPARE measured AS " + statement.CommandText, connection))
        {
            await prepare.ExecuteNonQueryAsync();
        }

        await using var command = new NpgsqlCommand($"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE measured({Arguments(statement)})", connection);

        var json = (string)(await command.ExecuteScalarAsync())!;
        await using (var deallocate = new NpgsqlCommand("DEALLOCATE measured", connection))
        {
            await deallocate.ExecuteNonQueryAsync();
        }

        var plan = JsonDocument.Parse(json).RootElement[0].GetProperty("Plan");
        return (Sum(plan, "Rows Removed by Join Filter"), plan.GetProperty("Actual Rows").GetInt64(), Examined(plan, "bindings"));
    }

    /// <summary>
    /// The statement's parameters as EXECUTE's arguments: EXPLAIN EXECUTE takes no bound parameters, so the arrays go in
    /// as array literals, typed by the PREPARE.
    /// </summary>
    private static string Arguments(NpgsqlBatchCommand statement) =>
        string.Join(", ", statement.Parameters.Select(p => p.Value is IFormattable scalar and not DateTimeOffset
            ? scalar.ToString(null, System.Globalization.CultureInfo.InvariantCulture)
            : ArrayLiteral(p.Value!)));

    private static string ArrayLiteral(object array)
    {
        static string Element(object? value) => value switch
        {
            null => "NULL",
            string text => Quote(text),
            DateTimeOffset at => Quote(at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", System.Globalization.CultureInfo.InvariantCulture) + "+00"),
            byte[] bytes => Quote("\\x" + Convert.ToHexStringLower(bytes)),
            bool flag => flag ? "true" : "false",
            IFormattable number => number.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
            _ => throw new NotSupportedException(value.GetType().Name),
        };

        static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

        var elements = ((System.Collections.IEnumerable)array).Cast<object?>().Select(Element);
        return "'{" + string.Join(",", elements).Replace("'", "''", StringComparison.Ordinal) + "}'";
    }

    /// <summary>Rows of <paramref name="table"/> its scans returned or filtered out, over all their loops.</summary>
    private static long Examined(JsonElement node, string table)
    {
        long Field(string name) => node.TryGetProperty(name, out var value) ? value.GetInt64() : 0;
        var total = node.TryGetProperty("Relation Name", out var relation) && relation.GetString() == table
            && node.GetProperty("Node Type").GetString()!.Contains("Scan", StringComparison.Ordinal)
            ? (Field("Actual Rows") + Field("Rows Removed by Filter") + Field("Rows Removed by Index Recheck")) * Math.Max(1, Field("Actual Loops"))
            : 0;
        if (node.TryGetProperty("Plans", out var children))
        {
            foreach (var child in children.EnumerateArray())
            {
                total += Examined(child, table);
            }
        }

        return total;
    }

    private static long Sum(JsonElement node, string field)
    {
        var total = node.TryGetProperty(field, out var value) ? value.GetInt64() * (node.TryGetProperty("Actual Loops", out var loops) ? loops.GetInt64() : 1) : 0;
        if (node.TryGetProperty("Plans", out var children))
        {
            foreach (var child in children.EnumerateArray())
            {
                total += Sum(child, field);
            }
        }

        return total;
    }
}
