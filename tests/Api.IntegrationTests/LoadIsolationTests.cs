using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;

namespace CallNotify.Api.IntegrationTests;

/// <summary>
/// Many clients on two instances, many calls at once: every client receives exactly the calls for its own identity,
/// nothing is lost, and every answered call is on record. Bounded in count and time; loopback only.
/// </summary>
public sealed class LoadIsolationTests
{
    private const int Clients = 40;
    private const int CallsPerClient = 5;

    private TestStore _store = null!;

    [OneTimeSetUp]
    public async Task CreateStoreAsync() => _store = await TestStore.CreateAsync(StoreKind.Postgres);

    [OneTimeTearDown]
    public async Task DropStoreAsync() => await _store.DisposeAsync();

    [Test]
    [CancelAfter(120_000)]
    public async Task NobodyReceivesAnotherIdentitysCallAndNothingIsLost()
    {
        await using var a = new CallNotifyApp(_store);
        await using var b = new CallNotifyApp(_store);
        var run = Guid.NewGuid().ToString("N")[..6];
        var identities = Enumerable.Range(0, Clients).Select(i => $"load-{run}-{i}").ToList();
        var sockets = new List<ClientWebSocket>();
        foreach (var (identity, i) in identities.Select((id, i) => (id, i)))
        {
            // Half the clients on each instance; every call goes to the other instance half the time.
            sockets.Add(await WebSocketClients.ConnectAsync(i % 2 == 0 ? a : b, identity));
        }

        var received = new ConcurrentDictionary<string, ConcurrentBag<string>>();
        using var stopReading = new CancellationTokenSource();
        var readers = sockets.Select((socket, i) => ReadAllAsync(socket, identities[i], received, stopReading.Token)).ToList();

        var calls = identities.SelectMany(identity => Enumerable.Range(0, CallsPerClient).Select(_ => (identity, messageId: TwilioRequests.NewMessageId()))).ToList();
        using var clientA = a.CreateClient();
        using var clientB = b.CreateClient();
        using var gate = new SemaphoreSlim(16);
        var answers = await Task.WhenAll(calls.Select(async (call, i) =>
        {
            await gate.WaitAsync();
            try
            {
                var (app, http) = i % 2 == 0 ? (a, clientA) : (b, clientB);
                using var request = TwilioRequests.SignedRequest(app.BaseAddress, TwilioRequests.Body(to: "client:" + call.identity, messageId: call.messageId));
                using var response = await http.SendAsync(request);
                return response.StatusCode;
            }
            finally
            {
                gate.Release();
            }
        }));

        // Let the last frames arrive, then stop reading.
        await Eventually.Until(() => Task.FromResult(received.Values.Sum(v => v.Count)), n => n >= calls.Count, TimeSpan.FromSeconds(20));
        await stopReading.CancelAsync();
        await Task.WhenAll(readers);
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }

        var expected = calls.GroupBy(c => c.identity).ToDictionary(g => g.Key, g => g.Select(c => c.messageId).Order().ToList());
        using var admin = a.CreateAdminClient();
        var recorded = 0;
        foreach (var call in calls)
        {
            using var response = await admin.GetAsync($"/admin/v1/notifications/{call.messageId}?accountSid={CallNotifyApp.AccountSid}");
            recorded += response.StatusCode == HttpStatusCode.OK ? 1 : 0;
        }

        using (Assert.EnterMultipleScope())
        {
            Assert.That(answers, Is.All.EqualTo(HttpStatusCode.OK));
            Assert.That(recorded, Is.EqualTo(calls.Count), "every answered call is on record");
            Assert.That(received.Keys.Where(k => k.StartsWith("WRONG:", StringComparison.Ordinal)), Is.Empty, "a frame for another identity");
            foreach (var identity in identities)
            {
                var got = received.TryGetValue(identity, out var bag) ? bag.Order().ToList() : [];
                Assert.That(got, Is.EqualTo(expected[identity]), $"{identity} receives its own calls, each once");
            }
        }
    }

    /// <summary>Reads frames until cancelled; records each frame's twi_message_id under the reader's identity, after checking its twi_to.</summary>
    private static async Task ReadAllAsync(ClientWebSocket socket, string identity, ConcurrentDictionary<string, ConcurrentBag<string>> received, CancellationToken stop)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.AsMemory(length), stop);
                    length += result.Count;
                }
                while (!result.EndOfMessage);

                if (result.MessageType != WebSocketMessageType.Text)
                {
                    return;
                }

                using var json = JsonDocument.Parse(buffer.AsMemory(0, length));
                var to = json.RootElement.GetProperty("twi_to").GetString();
                var bag = received.GetOrAdd(to == "client:" + identity ? identity : "WRONG:" + identity + "<-" + to, _ => []);
                bag.Add(json.RootElement.GetProperty("twi_message_id").GetString()!);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // Stopped.
        }

    }
}
