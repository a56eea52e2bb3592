using System.Text;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using CallNotify.Infrastructure.Persistence;
using CallNotify.Infrastructure.Persistence.Postgres;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace CallNotify.Api.IntegrationTests.Store;

/// <summary>
/// The group commit's statements must not degrade with the batch they carry: PostgreSQL's own plan, executed
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
        _store = await TestStore.CreateAsync(StoreKind.Postgres);
        await using (var db = new PostgresCallNotifyDbContext(
            (DbContextOptions<PostgresCallNotifyDbContext>)new DbContextOptionsBuilder<PostgresCallNotifyDbContext>().UseCallNotifyPostgres(_store.ConnectionString).Options))
        {
            await db.Database.MigrateAsync();
        }

        _dataSource = NpgsqlDataSource.Create(_store.ConnectionString);
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
    public async Task RecordingResultsAndAcksComparesEachRowWithABoundedNumberOfOthers(
        [Values(1, 16, 256)] int batch, [Values("force_custom_plan", "force_generic_plan")] string planMode)
    {
        _planMode = planMode;
        // Two deliveries per notification, as for a callee with two clients.
        var notifications = Enumerable.Range(0, batch).Select(_ => Notification(clients: 2)).ToList();
        var insert = await ExplainAsync(NotificationInsert.Statement.Build([.. notifications.Select(n => new NotificationInsert(n))]));

        var updates = notifications.Select(n =>
        {
            var expected = n.Version;
            var before = n.Deliveries.Select(DeliveryRow.Of).ToArray();
            n.RecordResult(n.Deliveries[0].Id, DeliveryResult.Accepted(), Now.AddSeconds(1));
            DeliveryRow[] changed = [.. n.Deliveries.Select(DeliveryRow.Of).Where((row, i) => row != before[i])];
            EventRow[] appended = [.. n.Deliveries[0].Events.Select(e => EventRow.Of(n.Deliveries[0], e))];
            return (GroupWrite)new NotificationUpdate(n, expected, changed, appended);
        }).ToList();
        var update = await ExplainAsync(NotificationUpdate.Statement.Build(updates));

        TestContext.Out.WriteLine($"batch {batch}, {planMode}: join filters discarded {insert.RemovedByJoinFilter} rows in the insert, {update.RemovedByJoinFilter} in the update");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(insert.Applied, Is.EqualTo(batch), "every insert applied");
            Assert.That(update.Applied, Is.EqualTo(batch), "every update applied");
            Assert.That(insert.RemovedByJoinFilter, Is.LessThanOrEqualTo(4 * batch), "the insert compares each row with a few others at most");
            Assert.That(update.RemovedByJoinFilter, Is.LessThanOrEqualTo(4 * batch), "the update compares each row with a few others at most");
        }
    }

    private static CallNotification Notification(int clients) =>
        CallNotification.Receive(
            AccountSid.Parse("AC0123456789abcdef0123456789abcdef"), "WB" + Guid.NewGuid().ToString("N"), "CA1", "client:alice", "client:bob",
            ClientIdentity.Parse("bob"), "twilio.voice.call", Encoding.UTF8.GetBytes("{}"), Now, TimeSpan.FromSeconds(30),
            [.. Enumerable.Range(0, clients).Select(i => DeliveryTarget.ForSession("WS" + i))]);

    /// <summary>Runs the statement under EXPLAIN ANALYZE (so it is applied) and sums what its join filters discarded.</summary>
    private async Task<(long RemovedByJoinFilter, long Applied)> ExplainAsync(NpgsqlBatchCommand statement)
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

        // EXPLAIN EXECUTE takes no bound parameters: the arrays go in as array literals, typed by the PREPARE.
        var arguments = string.Join(", ", statement.Parameters.Select(p => ArrayLiteral(p.Value!)));
        await using var command = new NpgsqlCommand($"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE measured({arguments})", connection);

        var json = (string)(await command.ExecuteScalarAsync())!;
        await using (var deallocate = new NpgsqlCommand("DEALLOCATE measured", connection))
        {
            await deallocate.ExecuteNonQueryAsync();
        }

        var plan = JsonDocument.Parse(json).RootElement[0].GetProperty("Plan");
        return (Sum(plan, "Rows Removed by Join Filter"), plan.GetProperty("Actual Rows").GetInt64());
    }

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
