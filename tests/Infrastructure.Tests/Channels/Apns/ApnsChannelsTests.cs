using System.Text;
using System.Text.Json;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using CallNotify.Infrastructure.Channels.Apns;
using CallNotify.Infrastructure.Tests.Channels.Apns.Support;

namespace CallNotify.Infrastructure.Tests.Channels.Apns;

public sealed class ApnsChannelsTests : ApnsWireTestBase
{
    [Test]
    public async Task VoipPushCarriesTheBodyByteForByteWithTheVoipHeaders()
    {
        // Spacing, escapes and a non-string value survive untouched.
        const string body = "{ \"twi_from\" : \"client:alice\",\"twi_params\":\"a=%C3%A9&b=\\u00e9\", \"n\": 1.50, \"aps\": {} }";
        var message = Message(ChannelKind.ApnsVoip, body);

        var result = await SendAsync(message);

        var request = Server.Requests.Single();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result, Is.EqualTo(DeliveryResult.Accepted()));
            Assert.That(request.Protocol, Is.EqualTo("HTTP/2"));
            Assert.That(request.Endpoint, Is.EqualTo(ApnsEndpointKind.Production));
            Assert.That(request.DeviceToken, Is.EqualTo(DeviceToken));
            Assert.That(request.Body, Is.EqualTo(Encoding.UTF8.GetBytes(body)));
            Assert.That(request.PushType, Is.EqualTo("voip"));
            Assert.That(request.Topic, Is.EqualTo(ApnsTestKeys.BundleId + ".voip"));
            Assert.That(request.Priority, Is.EqualTo("10"));
            Assert.That(request.Expiration, Is.EqualTo((Start + InviteTtl).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.That(request.ApnsId, Is.EqualTo(Guid.ParseExact(message.DeliveryId[Ids.DeliveryPrefix.Length..], "N").ToString("D")));
        }
    }

    [Test]
    public async Task AlertPushCarriesTheBodyFieldsAndAnApsAlertNamingTheCaller()
    {
        var result = await SendAsync(ChannelKind.Apns);

        var request = Server.Requests.Single();
        var expected = Body[..^1] + ",\"aps\":{\"alert\":{\"title\":\"Incoming call\",\"body\":\"alice\"},\"sound\":\"default\"}}";
        using (Assert.EnterMultipleScope())
        {
            Assert.That(result, Is.EqualTo(DeliveryResult.Accepted()));
            Assert.That(Encoding.UTF8.GetString(request.Body), Is.EqualTo(expected));
            Assert.That(request.PushType, Is.EqualTo("alert"));
            Assert.That(request.Topic, Is.EqualTo(ApnsTestKeys.BundleId));
            Assert.That(request.Priority, Is.EqualTo("10"));
            Assert.That(request.Expiration, Is.EqualTo((Start + InviteTtl).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
    }

    [Test]
    public async Task AlertPushReplacesAnApsTheBodyAlreadyHas()
    {
        await SendAsync(Message(ChannelKind.Apns, "{\"aps\":{\"content-available\":1},\"twi_from\":\"+15551234567\"}"));

        using var payload = JsonDocument.Parse(Server.Requests.Single().Body);
        var properties = payload.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(properties, Is.EqualTo(new[] { "twi_from", "aps" }));
            Assert.That(payload.RootElement.GetProperty("aps").TryGetProperty("content-available", out _), Is.False);
            Assert.That(payload.RootElement.GetProperty("aps").GetProperty("alert").GetProperty("body").GetString(), Is.EqualTo("+15551234567"));
        }
    }

    [TestCase(ChannelKind.ApnsVoip, "com.example.other", "com.example.other.voip")]
    [TestCase(ChannelKind.Apns, "com.example.other", "com.example.other")]
    [TestCase(ChannelKind.ApnsVoip, null, ApnsTestKeys.BundleId + ".voip")]
    [TestCase(ChannelKind.Apns, null, ApnsTestKeys.BundleId)]
    public async Task TheBindingsAppIdIsTheTopicAndTheConfiguredBundleIdTheFallback(ChannelKind channel, string? appId, string topic)
    {
        await SendAsync(Message(channel, appId: appId));

        Assert.That(Server.Requests.Single().Topic, Is.EqualTo(topic));
    }

    [TestCase(ChannelKind.ApnsVoip, ApnsEnvironment.Production, ApnsEndpointKind.Production)]
    [TestCase(ChannelKind.ApnsVoip, ApnsEnvironment.Sandbox, ApnsEndpointKind.Sandbox)]
    [TestCase(ChannelKind.Apns, ApnsEnvironment.Production, ApnsEndpointKind.Production)]
    [TestCase(ChannelKind.Apns, ApnsEnvironment.Sandbox, ApnsEndpointKind.Sandbox)]
    public async Task TheBindingsEnvironmentPicksTheEndpoint(ChannelKind channel, ApnsEnvironment environment, ApnsEndpointKind endpoint)
    {
        var result = await SendAsync(Message(channel, environment: environment));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result, Is.EqualTo(DeliveryResult.Accepted()));
            Assert.That(Server.Requests.Single().Endpoint, Is.EqualTo(endpoint));
        }
    }

    [TestCase(ChannelKind.ApnsVoip)]
    [TestCase(ChannelKind.Apns)]
    public async Task WithNeitherAppIdNorBundleIdNothingIsSent(ChannelKind channel)
    {
        Configure(settings => settings.Remove("Apns:BundleId"));

        var result = await SendAsync(Message(channel, appId: null));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result, Is.EqualTo(DeliveryResult.Failed(ApnsSender.NoTopic)));
            Assert.That(Server.Requests, Is.Empty);
        }
    }

    [TestCase(ChannelKind.ApnsVoip, "com.example app")]
    [TestCase(ChannelKind.Apns, "com.example\r\napns-priority: 5")]
    public async Task AnAppIdThatIsNotABundleIdIsABadTopicAndNothingIsSent(ChannelKind channel, string appId)
    {
        var result = await SendAsync(Message(channel, appId: appId));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result, Is.EqualTo(DeliveryResult.Failed(ApnsSender.BadTopic)));
            Assert.That(Server.Requests, Is.Empty);
        }
    }

    [TestCase(ChannelKind.ApnsVoip, 5120)]
    [TestCase(ChannelKind.Apns, 4096)]
    public async Task APayloadOfExactlyTheLimitIsSent(ChannelKind channel, int limit)
    {
        var body = BodyWhosePayloadIs(channel, limit);

        var result = await SendAsync(Message(channel, body, ApnsEnvironment.Production, appId: null));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result, Is.EqualTo(DeliveryResult.Accepted()));
            Assert.That(Server.Requests.Single().Body, Has.Length.EqualTo(limit));
        }
    }

    [TestCase(ChannelKind.ApnsVoip, 5121)]
    [TestCase(ChannelKind.Apns, 4097)]
    public async Task APayloadOverTheLimitFailsWithoutBeingSent(ChannelKind channel, int size)
    {
        var body = BodyWhosePayloadIs(channel, size);

        var result = await SendAsync(Message(channel, body, ApnsEnvironment.Production, appId: null));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result, Is.EqualTo(DeliveryResult.Failed(DeliveryErrors.PayloadTooLarge)));
            Assert.That(Server.Requests, Is.Empty);
        }
    }

    [Test]
    public async Task AnAlertForABodyThatIsNotAJsonObjectFailsWithoutBeingSent()
    {
        var result = await SendAsync(Message(ChannelKind.Apns, "[1,2,3]"));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result, Is.EqualTo(DeliveryResult.Failed(ApnsAlertChannel.PayloadNotAnObject)));
            Assert.That(Server.Requests, Is.Empty);
        }
    }

    [Test]
    public async Task LogsNeverHoldTheDeviceTokenTheProviderTokenOrThePayload()
    {
        var answers = new Queue<FakeReply>([FakeReply.Ok, new(410, "Unregistered"), new(400, "BadTopic"), new(403, "InvalidProviderToken"), new(503, "ServiceUnavailable")]);
        Server.Respond = (_, _) => Task.FromResult(answers.Dequeue());
        for (var i = 0; i < 5; i++)
        {
            await SendAsync(Message(i % 2 == 0 ? ChannelKind.ApnsVoip : ChannelKind.Apns));
        }

        Configure(settings => settings["Apns:ProductionEndpoint"] = ApnsResilienceTests.ClosedEndpoint());
        await SendAsync(ChannelKind.ApnsVoip);

        var logged = string.Join(Environment.NewLine, Logs.Entries.Select(e => e.FullText));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(SenderLogs().Count(), Is.GreaterThanOrEqualTo(6), "the sends were logged at all");
            Assert.That(logged, Does.Contain(PushAddress.Redact(DeviceToken)));
            Assert.That(logged, Does.Not.Contain(DeviceToken));
            Assert.That(logged, Does.Not.Contain(BridgeToken));
            Assert.That(logged, Does.Not.Contain("twi_params"));
            foreach (var jwt in DistinctTokens())
            {
                Assert.That(logged, Does.Not.Contain(jwt.Split('.')[2]));
            }
        }
    }

    /// <summary>A body whose APNs payload on <paramref name="channel"/> is exactly <paramref name="size"/> bytes.</summary>
    private static byte[] BodyWhosePayloadIs(ChannelKind channel, int size)
    {
        static string Padded(int padding) => "{\"twi_from\":\"client:alice\",\"pad\":\"" + new string('x', padding) + "\"}";

        int PayloadSize(string body) => channel == ChannelKind.ApnsVoip
            ? Encoding.UTF8.GetByteCount(body)
            : ApnsAlertPayload.Build(Encoding.UTF8.GetBytes(body))!.Length;

        var overhead = PayloadSize(Padded(0));
        var body = Padded(size - overhead);
        Assert.That(PayloadSize(body), Is.EqualTo(size), "test body sized right");
        return Encoding.UTF8.GetBytes(body);
    }
}
