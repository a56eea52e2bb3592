using System.Diagnostics;
using System.Net;
using CallNotify.Api.IntegrationTests.Support;

namespace CallNotify.Api.IntegrationTests;

/// <summary>
/// SPEC §8, "the store hanging (not refusing)": with PostgreSQL frozen (SIGSTOP, so connections stay open and nothing
/// answers) every webhook is answered 503 with <c>Retry-After</c> within 5 s, Twilio's timeout being 15 s; once thawed
/// the service recovers by itself, and no webhook answered 200 is missing from the record.
/// </summary>
[NonParallelizable]
public sealed class FrozenStoreTests
{
    private const int CallsWhileFrozen = 8;
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(5);

    [Test]
    [CancelAfter(180_000)]
    public async Task WebhooksAnswer503InTimeWhileTheDatabaseIsFrozenAndNothingAcknowledgedIsLost()
    {
        await using var server = await OwnPostgresServer.StartAsync();
        await using var store = TestStore.OnOwnServer(server);
        await using var app = new CallNotifyApp(store);
        const string identity = "frozen-bob";
        using var socket = await WebSocketClients.ConnectAsync(app, identity);
        using var http = app.CreateClient();
        http.Timeout = TimeSpan.FromSeconds(30);
        var answeredOk = new List<string>();

        async Task<(HttpStatusCode Status, TimeSpan Took, bool RetryAfter)> PostAsync(string messageId)
        {
            var clock = Stopwatch.StartNew();
            using var request = TwilioRequests.SignedRequest(app.BaseAddress, TwilioRequests.Body(to: "client:" + identity, messageId: messageId));
            using var response = await http.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                lock (answeredOk)
                {
                    answeredOk.Add(messageId);
                }
            }

            return (response.StatusCode, clock.Elapsed, response.Headers.RetryAfter is not null);
        }

        var before = await PostAsync(TwilioRequests.NewMessageId());
        Assert.That(before.Status, Is.EqualTo(HttpStatusCode.OK), "the service works before the freeze");

        var frozenIds = Enumerable.Range(0, CallsWhileFrozen).Select(_ => TwilioRequests.NewMessageId()).ToList();
        (HttpStatusCode Status, TimeSpan Took, bool RetryAfter)[] frozen;
        await server.FreezeAsync();
        try
        {
            frozen = await Task.WhenAll(frozenIds.Select(PostAsync));
        }
        finally
        {
            await server.ThawAsync();
        }

        TestContext.Out.WriteLine("While frozen: " + string.Join(", ", frozen.Select(f => $"{(int)f.Status} in {f.Took.TotalMilliseconds:F0} ms")));

        // Thawed: a new call gets through again (the first attempts may still meet connections the freeze broke).
        var recovered = await Eventually.Until(
            async () => (await PostAsync(TwilioRequests.NewMessageId())).Status,
            status => status == HttpStatusCode.OK,
            TimeSpan.FromSeconds(60));

        // Twilio retries what was answered 503: each is answered from its record or recorded now, and rings.
        var retried = new List<HttpStatusCode>();
        foreach (var messageId in frozenIds)
        {
            retried.Add(await Eventually.Until(
                async () => (await PostAsync(messageId)).Status, status => status == HttpStatusCode.OK, TimeSpan.FromSeconds(30)));
        }

        var missing = await app.MissingFromRecordAsync(answeredOk);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(frozen.Select(f => f.Status), Is.All.EqualTo(HttpStatusCode.ServiceUnavailable), "every webhook is answered 503 while frozen");
            Assert.That(frozen.Select(f => f.RetryAfter), Is.All.True, "with Retry-After");
            Assert.That(frozen.Select(f => f.Took), Is.All.LessThan(Within), "within 5 s");
            Assert.That(recovered, Is.EqualTo(HttpStatusCode.OK), "the service recovers once the database is thawed");
            Assert.That(retried, Is.All.EqualTo(HttpStatusCode.OK), "Twilio's retries of the 503s ring");
            Assert.That(missing, Is.Empty, "every webhook answered 200 is on record");
        }
    }
}
