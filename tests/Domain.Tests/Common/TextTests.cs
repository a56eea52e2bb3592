using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;

namespace CallNotify.Domain.Tests.Common;

public class TextTests
{
    [TestCase("abc", 5, "abc")]
    [TestCase("abcdef", 3, "abc")]
    [TestCase("abc", 0, "")]
    [TestCase("ab\U0001F600", 3, "ab", TestName = "NeverKeepsHalfAPair")]
    [TestCase("ab\U0001F600", 4, "ab\U0001F600", TestName = "KeepsAWholePair")]
    [TestCase("a\U0001F600b", 3, "a\U0001F600", TestName = "CutsAfterAWholePair")]
    public void TruncatesOnCodePointBoundaries(string value, int max, string expected) =>
        Assert.That(Text.Truncate(value, max), Is.EqualTo(expected));

    [Test]
    public void AStoredFromIsNeverCutInsideASurrogatePair()
    {
        var from = "client:" + new string('a', 248) + "\U0001F600";
        var notification = CallNotification.Receive(
            AccountSid.Parse("AC0123456789abcdef0123456789abcdef"),
            "WB1",
            "CA1",
            from,
            "client:bob",
            ClientIdentity.Parse("bob"),
            "twilio.voice.call",
            new byte[] { 1 },
            DateTimeOffset.UnixEpoch,
            TimeSpan.FromSeconds(30),
            [DeliveryTarget.ForSession("s1")]);

        Assert.That(notification.From, Is.EqualTo("client:" + new string('a', 248)));
    }
}
