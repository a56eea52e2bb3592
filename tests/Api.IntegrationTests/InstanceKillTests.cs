using System.Collections.Concurrent;
using System.Net;
using System.Text;
using CallNotify.Api.IntegrationTests.Support;

namespace CallNotify.Api.IntegrationTests;

/// <summary>An instance SIGKILLed (a separate OS process): the others keep answering, and nothing answered 200 is lost.</summary>
public sealed class InstanceKillTests
{
    private TestStore _store = null!;

    [OneTimeSetUp]
    public async Task CreateStoreAsync() => _store = await TestStore.CreateAsync(StoreKind.Postgres);

    [OneTimeTearDown]
    public async Task DropStoreAsync() => await _store.DisposeAsync();

    [Test]
    [CancelAfter(120_000)]
    public async Task EveryCallAKilledInstanceAnswered200IsOnRecordAndTheOtherKeepsAnswering()
    {
        await using var a = new CallNotifyApp(_store);
        await using var b = await ApiProcess.StartAsync(_store);
        var identity = "kill-" + Guid.NewGuid().ToString("N")[..8];
        using var client = await WebSocketClients.ConnectAsync(a, identity);
        using var toB = new HttpClient { BaseAddress = b.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var answered = new ConcurrentBag<string>();
        var refused = 0;

        // Load on B (its deliveries relay to the client on A) while B is killed part-way.
        using var stop = new CancellationTokenSource();
        var load = Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            while (!stop.IsCancellationRequested)
            {
                var messageId = TwilioRequests.NewMessageId();
                try
                {
                    using var request = TwilioRequests.SignedRequest(b.BaseAddress, Encoding.UTF8.GetBytes(TwilioRequests.Body(to: "client:" + identity, messageId: messageId)));
                    using var response = await toB.SendAsync(request, stop.Token);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        answered.Add(messageId);
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
                {
                    // B is gone, or the run is over.
                    Interlocked.Increment(ref refused);
                }
            }
        }));
        await Eventually.Until(() => Task.FromResult(answered.Count), n => n >= 20, TimeSpan.FromSeconds(30));
        b.Kill();

        // The load goes on until every sender has met the dead instance.
        await Eventually.Until(() => Task.FromResult(Volatile.Read(ref refused)), n => n >= 4, TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await load;

        var missing = await a.MissingFromRecordAsync(answered);

        using var toA = a.CreateClient();
        using var after = TwilioRequests.SignedRequest(a.BaseAddress, TwilioRequests.Body(to: "client:" + identity));
        using var afterResponse = await toA.SendAsync(after);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(answered, Has.Count.GreaterThanOrEqualTo(20));
            Assert.That(missing, Is.Empty, "answered 200 but not on record");
            Assert.That(afterResponse.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the surviving instance keeps answering");
        }
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task TheSessionsOfAKilledInstanceStopCountingWithinSeconds()
    {
        await using var a = new CallNotifyApp(_store);
        await using var b = await ApiProcess.StartAsync(_store);
        var identity = "killed-session-" + Guid.NewGuid().ToString("N")[..8];
        using var admin = new HttpClient { BaseAddress = b.BaseAddress };
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", CallNotifyApp.AdminKey);
        var token = await IssueTokenAsync(admin, identity);
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        await socket.ConnectAsync(new UriBuilder(b.BaseAddress) { Scheme = "ws", Path = "/v1/websocket", Query = "token=" + Uri.EscapeDataString(token) }.Uri, CancellationToken.None);
        await a.WaitForSessionsAsync(CallNotifyApp.AccountSid, identity, 1);

        b.Kill();
        var killedAt = DateTime.UtcNow;
        using var toA = a.CreateClient();
        HttpStatusCode status;
        do
        {
            using var request = TwilioRequests.SignedRequest(a.BaseAddress, TwilioRequests.Body(to: "client:" + identity));
            using var response = await toA.SendAsync(request);
            status = response.StatusCode;
            if (status != HttpStatusCode.NotFound)
            {
                await Task.Delay(500);
            }
        }
        while (status != HttpStatusCode.NotFound && DateTime.UtcNow - killedAt < TimeSpan.FromSeconds(30));

        // Not a timing bound: the session stopped counting because its instance's heartbeat went stale by the
        // database's clock (its row is still there: nothing removed it), which is the rule that makes it take seconds.
        var (rows, fresh) = await SessionRowsAsync(identity);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(status, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(rows, Is.EqualTo(1), "the killed instance never removed its session row");
            Assert.That(fresh, Is.Zero, "its instance's heartbeat is stale");
        }
    }

    /// <summary>The identity's session rows, and how many of them are on an instance with a fresh heartbeat.</summary>
    private async Task<(long Rows, long Fresh)> SessionRowsAsync(string identity)
    {
        await using var connection = new Npgsql.NpgsqlConnection(_store.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            """
            SELECT count(*),
                   count(*) FILTER (WHERE i.heartbeat_at > now() - interval '10 seconds')
            FROM live_sessions s LEFT JOIN instances i ON i.id = s.instance_id
            WHERE s."identity" = @identity
            """, connection);
        command.Parameters.AddWithValue("identity", identity);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private static async Task<string> IssueTokenAsync(HttpClient admin, string identity)
    {
        using var response = await admin.PostAsync("/admin/v1/websocket-tokens", System.Net.Http.Json.JsonContent.Create(new { accountSid = CallNotifyApp.AccountSid, identity }));
        var body = await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<System.Text.Json.JsonElement>(response.Content);
        return body.GetProperty("token").GetString()!;
    }
}
