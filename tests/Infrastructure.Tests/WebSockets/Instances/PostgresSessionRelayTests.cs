using System.Text;
using System.Text.Json;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using CallNotify.Infrastructure.WebSockets.Instances;

namespace CallNotify.Infrastructure.Tests.WebSockets.Instances;

public sealed class PostgresSessionRelayTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    private static IEnumerable<DeliveryResult> Results()
    {
        yield return DeliveryResult.Accepted();
        yield return DeliveryResult.ClientGone(DeliveryErrors.SessionClosed);
        yield return DeliveryResult.Failed("notification-not-found");
        yield return DeliveryResult.Retry("relay-timeout");
    }

    [TestCaseSource(nameof(Results))]
    public void AResultCrossesTheRelayUnchanged(DeliveryResult result)
    {
        var parsed = RelayResults.Parse(RelayResults.Format(result));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(parsed.Kind, Is.EqualTo(result.Kind));
            Assert.That(parsed.Reason, Is.EqualTo(result.Reason));
        }
    }

    [Test]
    public void AnUnknownResultIsARetry()
    {
        Assert.That(RelayResults.Parse("something-new").Kind, Is.EqualTo(DeliveryResultKind.Retry));
    }

    [Test]
    public void ASendRequestCarriesReferencesOnlyAndStaysFarBelowTheNotifyPayloadLimit()
    {
        var message = new RelayMessage(
            RelayMessage.SendType,
            Guid.NewGuid().ToString("N"),
            Ids.New(Ids.InstancePrefix, At),
            Ids.New(Ids.SessionPrefix, At),
            Ids.New(Ids.DeliveryPrefix, At),
            null);

        var json = JsonSerializer.Serialize(message, RelayJsonContext.Default.RelayMessage);
        var back = JsonSerializer.Deserialize(json, RelayJsonContext.Default.RelayMessage);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Encoding.UTF8.GetByteCount(json), Is.LessThan(512));
            Assert.That(back, Is.EqualTo(message));
        }
    }

    [Test]
    public void AnInstanceChannelIsALowerCaseIdentifierWithinPostgresLimits()
    {
        var channel = PostgresSessionRelay.ChannelOf(Ids.New(Ids.InstancePrefix, At));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(channel, Does.Match("^callnotify_in[0-9a-f]{32}$"));
            Assert.That(channel, Has.Length.LessThanOrEqualTo(63));
        }
    }
}
