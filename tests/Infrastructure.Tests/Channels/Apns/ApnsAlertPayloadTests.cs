using System.Text;
using CallNotify.Infrastructure.Channels.Apns;

namespace CallNotify.Infrastructure.Tests.Channels.Apns;

public sealed class ApnsAlertPayloadTests
{
    private const string Aps = "\"aps\":{\"alert\":{\"title\":\"Incoming call\",\"body\":\"alice\"},\"sound\":\"default\"}";

    [Test]
    public void FieldsAreCopiedAsTheyAreWrittenInTheBody()
    {
        const string body = "{ \"twi_from\" : \"client:alice\" ,\"caf\\u00e9\":\"\\u00e9\\n\",\"n\":1.50e0,\"o\":{ \"a\" : [1, true, null] } }";

        Assert.That(Build(body), Is.EqualTo(
            "{\"twi_from\" : \"client:alice\",\"caf\\u00e9\":\"\\u00e9\\n\",\"n\":1.50e0,\"o\":{ \"a\" : [1, true, null] }," + Aps + "}"));
    }

    [Test]
    public void TheBodysOwnApsIsDroppedForOurs()
    {
        Assert.That(
            Build("{\"aps\":{\"sound\":\"x\"},\"twi_from\":\"client:alice\",\"aps\":[]}"),
            Is.EqualTo("{\"twi_from\":\"client:alice\"," + Aps + "}"));
    }

    [TestCase("client:alice", "alice")]
    [TestCase("+15551234567", "+15551234567")]
    [TestCase("client:Zoë \"Z\"", "Zoë \\\"Z\\\"")]
    public void TheAlertNamesTheCallerWithoutTheClientPrefix(string from, string shown)
    {
        var body = "{\"twi_from\":" + System.Text.Json.JsonSerializer.Serialize(from) + "}";

        Assert.That(Build(body), Does.EndWith("\"alert\":{\"title\":\"Incoming call\",\"body\":\"" + shown + "\"},\"sound\":\"default\"}}"));
    }

    [TestCase("{}")]
    [TestCase("{\"twi_from\":42}")]
    [TestCase("{\"twi_from\":\"\"}")]
    public void WithoutACallerTheAlertHasOnlyItsTitle(string body)
    {
        Assert.That(Build(body), Does.EndWith("\"aps\":{\"alert\":{\"title\":\"Incoming call\"},\"sound\":\"default\"}}"));
    }

    [Test]
    public void AnEmptyObjectGetsOnlyTheAps()
    {
        Assert.That(Build("{}"), Is.EqualTo("{\"aps\":{\"alert\":{\"title\":\"Incoming call\"},\"sound\":\"default\"}}"));
    }

    [TestCase("[]")]
    [TestCase("\"text\"")]
    [TestCase("")]
    [TestCase("{\"a\":1")]
    [TestCase("{\"a\":1} {}")]
    [TestCase("{\"a\":1,}")]
    public void ABodyThatIsNotOneJsonObjectHasNoAlertPayload(string body)
    {
        Assert.That(ApnsAlertPayload.Build(Encoding.UTF8.GetBytes(body)), Is.Null);
    }

    private static string Build(string body) => Encoding.UTF8.GetString(ApnsAlertPayload.Build(Encoding.UTF8.GetBytes(body))!);
}
