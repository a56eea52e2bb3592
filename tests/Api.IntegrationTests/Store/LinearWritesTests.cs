using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;
using Npgsql;

namespace CallNotify.Api.IntegrationTests.Store;

/// <summary>
/// What one call costs the store, counted by PostgreSQL itself (<c>pg_stat_user_tables</c>): with N live sessions that
/// all take the frame and ack it, the rows written grow linearly with N, not with its square: one delivery row each,
/// never rewritten, and two appended events (ADR 0021).
/// </summary>
[NonParallelizable]
public sealed class LinearWritesTests
{
    [TestCase(10)]
    [TestCase(40)]
    [CancelAfter(120_000)]
    public async Task ACallToNSessionsThatAllAckWritesAtMostAFewRowsPerSession(int sessions)
    {
        await using var store = await TestStore.CreateAsync(StoreKind.Postgres);
        var identity = "linear-" + Guid.NewGuid().ToString("N")[..8];
        var messageId = TwilioRequests.NewMessageId();
        var sockets = new List<ClientWebSocket>();
        (long Inserted, long Updated, long Events) written;
        // One identity with this many sessions: above the default cap (WebSocket:MaxSessionsPerIdentity).
        var settings = new Dictionary<string, string?> { ["WebSocket:MaxSessionsPerIdentity"] = sessions.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        await using (var app = new CallNotifyApp(store, settings))
        {
            for (var i = 0; i < sessions; i++)
            {
                sockets.Add(await WebSocketClients.ConnectAsync(app, identity, expected: i + 1));
            }

            var before = await DeliveryRowsWrittenAsync(store);
            using (var http = app.CreateClient())
            using (var request = TwilioRequests.SignedRequest(app.BaseAddress, TwilioRequests.Body(to: "client:" + identity, messageId: messageId)))
            using (var response = await http.SendAsync(request))
            {
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            }

            var ack = Encoding.UTF8.GetBytes($"{{\"type\":\"ack\",\"twi_message_id\":\"{messageId}\"}}");
            foreach (var socket in sockets)
            {
                Assert.That(await WebSocketClients.ReceiveFrameAsync(socket, TimeSpan.FromSeconds(10)), Is.Not.Null);
                await socket.SendAsync(ack, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }

            using var admin = app.CreateAdminClient();
            var acknowledged = await Eventually.Until(
                async () =>
                {
                    var notification = await admin.GetFromJsonAsync<JsonElement>($"/admin/v1/notifications/{messageId}?accountSid={CallNotifyApp.AccountSid}");
                    return notification.GetProperty("deliveries").EnumerateArray().Count(d => d.GetProperty("acknowledgedAt").ValueKind == JsonValueKind.String);
                },
                count => count == sessions,
                TimeSpan.FromSeconds(30));
            Assert.That(acknowledged, Is.EqualTo(sessions), "every session's ack is recorded");

            foreach (var socket in sockets)
            {
                socket.Dispose();
            }

            // Backends report their counts when they end: stop the service and close every pooled connection first.
            await app.DisposeAsync();
            NpgsqlConnection.ClearAllPools();
            var gone = await Eventually.Until(() => OtherBackendsAsync(store), count => count == 0, TimeSpan.FromSeconds(20));
            Assert.That(gone, Is.Zero, "the service's connections have ended");
            var after = await DeliveryRowsWrittenAsync(store);
            written = (after.Inserted - before.Inserted, after.Updated - before.Updated, after.Events - before.Events);
        }

        TestContext.Out.WriteLine($"{sessions} sessions: {written.Inserted} delivery rows inserted, {written.Updated} updated, {written.Events} events appended");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(written.Inserted, Is.EqualTo(sessions), "one delivery per session");
            Assert.That(written.Updated, Is.Zero, "a result or an ack rewrites no delivery row");
            Assert.That(written.Events, Is.EqualTo(2 * sessions), "each delivery's history gains its acceptance and its ack");
        }
    }

    /// <summary>Connections to the test's database other than the asking one.</summary>
    private static async Task<long> OtherBackendsAsync(TestStore store)
    {
        await using var connection = new NpgsqlConnection(store.ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// Rows inserted and updated in <c>deliveries</c>, and rows inserted in <c>delivery_events</c>, since the database was
    /// created, as PostgreSQL counts them.
    /// </summary>
    private static async Task<(long Inserted, long Updated, long Events)> DeliveryRowsWrittenAsync(TestStore store)
    {
        await using var connection = new NpgsqlConnection(store.ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT d.n_tup_ins, d.n_tup_upd, e.n_tup_ins
            FROM pg_stat_user_tables d, pg_stat_user_tables e
            WHERE d.relname = 'deliveries' AND e.relname = 'delivery_events'
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.That(await reader.ReadAsync(), Is.True);
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }
}
