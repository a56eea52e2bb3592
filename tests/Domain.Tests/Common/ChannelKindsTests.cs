using CallNotify.Domain.Common;

namespace CallNotify.Domain.Tests.Common;

public class ChannelKindsTests
{
    [TestCase(ChannelKind.Fcm, "fcm")]
    [TestCase(ChannelKind.ApnsVoip, "apns-voip")]
    [TestCase(ChannelKind.Apns, "apns")]
    [TestCase(ChannelKind.WebSocket, "websocket")]
    public void WireValueRoundTrips(ChannelKind kind, string wire)
    {
        var parsed = ChannelKinds.TryParse(wire, out var back);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(kind.ToWire(), Is.EqualTo(wire));
            Assert.That(parsed, Is.True);
            Assert.That(back, Is.EqualTo(kind));
        }
    }

    [Test]
    public void EveryKindHasAWireValueThatParsesBack()
    {
        foreach (var kind in Enum.GetValues<ChannelKind>())
        {
            Assert.That(ChannelKinds.TryParse(kind.ToWire(), out var back) && back == kind, Is.True, kind.ToString());
        }
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("FCM")]
    [TestCase("apns_voip")]
    [TestCase("gcm")]
    [TestCase(" fcm")]
    public void RejectsUnknownWireValue(string? wire)
    {
        Assert.That(ChannelKinds.TryParse(wire, out _), Is.False);
    }

    [Test]
    public void ToWireRejectsUndefinedKind()
    {
        Assert.That(() => ((ChannelKind)99).ToWire(), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [TestCase("fcm", ChannelKind.Fcm)]
    [TestCase("apns-voip", ChannelKind.ApnsVoip)]
    [TestCase("apns", ChannelKind.Apns)]
    public void ParsesPushChannelForABinding(string wire, ChannelKind expected)
    {
        Assert.That(ChannelKinds.ParseBindingChannel(wire), Is.EqualTo(expected));
    }

    [TestCase("websocket")]
    [TestCase("sms")]
    [TestCase(null)]
    public void RefusesBindingChannelThatIsNotPush(string? wire)
    {
        Assert.That(
            () => ChannelKinds.ParseBindingChannel(wire),
            Throws.TypeOf<DomainException>().With.Property(nameof(DomainException.Field)).EqualTo("channel"));
    }

    [Test]
    public void ClassifiesPushAndApnsChannels()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ChannelKind.Fcm.IsPush(), Is.True);
            Assert.That(ChannelKind.ApnsVoip.IsPush(), Is.True);
            Assert.That(ChannelKind.Apns.IsPush(), Is.True);
            Assert.That(ChannelKind.WebSocket.IsPush(), Is.False);
            Assert.That(ChannelKind.Fcm.IsApns(), Is.False);
            Assert.That(ChannelKind.ApnsVoip.IsApns(), Is.True);
            Assert.That(ChannelKind.Apns.IsApns(), Is.True);
            Assert.That(ChannelKind.WebSocket.IsApns(), Is.False);
        }
    }
}
