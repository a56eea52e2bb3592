using System.Net;
using CallNotify.Api.IntegrationTests.Support;

namespace CallNotify.Api.IntegrationTests;

/// <summary>
/// One webhook whose text the store cannot take as sent (a <c>twi_from</c> whose 256th UTF-16 unit is the first half of
/// an emoji) arrives among many good ones at once: it never takes its neighbours' writes down with it.
/// </summary>
[TestFixture(StoreKind.Postgres)]
[TestFixture(StoreKind.Sqlite)]
public sealed class PoisonousWebhookTests(StoreKind kind)
{
    private const int Rounds = 5;
    private const int GoodPerRound = 15;

    private TestStore _store = null!;

    [OneTimeSetUp]
    public async Task CreateStoreAsync() => _store = await TestStore.CreateAsync(kind);

    [OneTimeTearDown]
    public async Task DropStoreAsync() => await _store.DisposeAsync();

    [Test]
    [CancelAfter(120_000)]
    public async Task EveryGoodWebhookIsAnsweredAndRecordedAndThePoisonousOneGetsNo5xx()
    {
        await using var app = new CallNotifyApp(_store);
        var identity = "poison-" + Guid.NewGuid().ToString("N")[..8];
        using var socket = await WebSocketClients.ConnectAsync(app, identity);
        using var http = app.CreateClient();

        // "client:" + 248 letters + an emoji is 257 UTF-16 units: cut at 256, the emoji's surrogate pair is split.
        var poisonousFrom = "client:" + new string('a', 248) + "\U0001F600";
        var good = new List<(string MessageId, HttpStatusCode Status)>();
        var poisonous = new List<HttpStatusCode>();
        for (var round = 0; round < Rounds; round++)
        {
            var calls = Enumerable.Range(0, GoodPerRound + 1).Select(i => (Poisonous: i == GoodPerRound / 2, MessageId: TwilioRequests.NewMessageId())).ToList();
            var answers = await Task.WhenAll(calls.Select(async call =>
            {
                var body = TwilioRequests.Body(to: "client:" + identity, messageId: call.MessageId, from: call.Poisonous ? poisonousFrom : "client:alice");
                using var request = TwilioRequests.SignedRequest(app.BaseAddress, body);
                using var response = await http.SendAsync(request);
                return (call.Poisonous, call.MessageId, response.StatusCode);
            }));
            good.AddRange(answers.Where(a => !a.Poisonous).Select(a => (a.MessageId, a.StatusCode)));
            poisonous.AddRange(answers.Where(a => a.Poisonous).Select(a => a.StatusCode));
        }

        var missing = await app.MissingFromRecordAsync(good.Select(g => g.MessageId));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(good.Select(g => g.Status), Is.All.EqualTo(HttpStatusCode.OK), "every good webhook is answered 200");
            Assert.That(good, Has.Count.EqualTo(Rounds * GoodPerRound));
            Assert.That(missing, Is.Empty, "every good webhook is on record");
            Assert.That(poisonous.Select(s => (int)s), Is.All.LessThan(500), "the poisonous webhook gets a 4xx or a 200");
        }
    }
}
