using System.Text;
using CallNotify.Application.Calls.ReceiveCallNotification;
using CallNotify.Application.Tests.Support;

namespace CallNotify.Application.Tests.Calls.ReceiveCallNotification;

public class WebhookBodyTests
{
    private static readonly string[] RequiredFields = ["twi_account_sid", "twi_call_sid", "twi_message_id", "twi_message_type", "twi_to"];

    private static WebhookBodyError? ErrorOf(byte[] json)
    {
        var parsed = WebhookBody.TryParse(json, out var body, out var error);
        Assert.That(parsed, Is.EqualTo(error is null), "TryParse returns true exactly when it reports no error");
        Assert.That(body is null, Is.EqualTo(!parsed), "a body comes back exactly when parsing succeeded");
        return error;
    }

    private static WebhookBodyError? ErrorOf(string json) => ErrorOf(Encoding.UTF8.GetBytes(json));

    [Test]
    public void ParsesTheBodyTwilioSends()
    {
        var parsed = WebhookBody.TryParse(TestData.WebhookBody(), out var body, out var error);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(parsed, Is.True);
            Assert.That(error, Is.Null);
            Assert.That(body!.AccountSid, Is.EqualTo(TestData.Account));
            Assert.That(body.CallSid, Is.EqualTo("CA0123456789abcdef0123456789abcdef"));
            Assert.That(body.MessageId, Is.EqualTo("WB0123456789abcdef0123456789abcdef"));
            Assert.That(body.MessageType, Is.EqualTo("twilio.voice.call"));
            Assert.That(body.To, Is.EqualTo("client:bob"));
            Assert.That(body.From, Is.EqualTo("client:alice"));
            Assert.That(body.Identity.Value, Is.EqualTo("bob"));
        }
    }

    [Test]
    public void ParsesABodyWithUnknownFieldsOfAnyJsonType()
    {
        var fields = TestData.WebhookFields();
        fields.Add(new("custom_string", TestData.Quote("x")));
        fields.Add(new("custom_object", """{"a":[1,2.5,{"b":null}],"c":{"d":"e"}}"""));
        fields.Add(new("custom_array", """["twi_to","client:mallory"]"""));
        fields.Add(new("custom_number", "-12.5e3"));
        fields.Add(new("custom_true", "true"));
        fields.Add(new("custom_null", "null"));

        var parsed = WebhookBody.TryParse(TestData.Json(fields), out var body, out _);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(parsed, Is.True);
            Assert.That(body!.Identity.Value, Is.EqualTo("bob"), "a nested 'twi_to' is not the routing field");
        }
    }

    [Test]
    public void ParsesABodyWithoutTwiFrom()
    {
        var fields = TestData.WebhookFields();
        fields.RemoveAll(f => f.Key == "twi_from");

        var parsed = WebhookBody.TryParse(TestData.Json(fields), out var body, out _);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(parsed, Is.True);
            Assert.That(body!.From, Is.Null);
        }
    }

    [Test]
    public void ParsesABodyWithWhitespaceAroundIt()
    {
        var json = "\r\n\t " + Encoding.UTF8.GetString(TestData.WebhookBody()) + " \n";

        Assert.That(ErrorOf(json), Is.Null);
    }

    [Test]
    public void ParsesEscapedStrings()
    {
        var fields = TestData.WebhookFields();
        fields.RemoveAll(f => f.Key == "twi_to");
        fields.Add(new("twi_to", "\"client:b\\u00f6b\""));

        var parsed = WebhookBody.TryParse(TestData.Json(fields), out var body, out _);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(parsed, Is.True);
            Assert.That(body!.Identity.Value, Is.EqualTo("böb"));
        }
    }

    [TestCase("", TestName = "RefusesEmptyBody")]
    [TestCase("   ", TestName = "RefusesBlankBody")]
    [TestCase("twi_to=client%3Abob", TestName = "RefusesFormEncodedBody")]
    [TestCase("[]", TestName = "RefusesJsonArray")]
    [TestCase("[{\"twi_to\":\"client:bob\"}]", TestName = "RefusesArrayHoldingTheObject")]
    [TestCase("42", TestName = "RefusesJsonNumber")]
    [TestCase("\"client:bob\"", TestName = "RefusesJsonString")]
    [TestCase("null", TestName = "RefusesJsonNull")]
    [TestCase("{", TestName = "RefusesUnclosedObject")]
    [TestCase("{\"twi_to\":}", TestName = "RefusesMissingValue")]
    [TestCase("{'twi_to':'client:bob'}", TestName = "RefusesSingleQuotes")]
    [TestCase("{\"a\":1,}", TestName = "RefusesTrailingComma")]
    [TestCase("{/* comment */\"a\":1}", TestName = "RefusesComment")]
    public void RefusesWhatIsNotAJsonObject(string json)
    {
        Assert.That(ErrorOf(json)?.Field, Is.EqualTo("body"));
    }

    [TestCase("x", TestName = "RefusesTrailingGarbage")]
    [TestCase("{}", TestName = "RefusesASecondObject")]
    [TestCase(",", TestName = "RefusesTrailingComma")]
    [TestCase("}", TestName = "RefusesExtraClosingBrace")]
    public void RefusesAnythingAfterTheObject(string trailer)
    {
        var json = Encoding.UTF8.GetString(TestData.WebhookBody()) + trailer;

        Assert.That(ErrorOf(json)?.Field, Is.EqualTo("body"));
    }

    [Test]
    public void RefusesInvalidUtf8InARoutingField()
    {
        var json = TestData.WebhookBody(to: "client:bob#");
        ReplaceMarker(json, (byte)'#', 0xff);

        Assert.That(ErrorOf(json)?.Field, Is.EqualTo("body"));
    }

    [Test]
    public void RefusesInvalidUtf8InAFieldName()
    {
        var fields = TestData.WebhookFields();
        fields.Add(new("custom#", "1"));
        var json = TestData.Json(fields);
        ReplaceMarker(json, (byte)'#', 0xc3);

        Assert.That(ErrorOf(json)?.Field, Is.EqualTo("body"));
    }

    [Test]
    public void RefusesInvalidUtf8InAnUnknownField()
    {
        var fields = TestData.WebhookFields();
        fields.Add(new("custom", TestData.Quote("caf#")));
        var json = TestData.Json(fields);
        ReplaceMarker(json, (byte)'#', 0xe9);

        Assert.That(ErrorOf(json)?.Field, Is.EqualTo("body"));
    }

    [Test]
    public void RefusesNestingDeeperThanMaxDepth()
    {
        // The body object is one level; the field holds MaxDepth more.
        var fields = TestData.WebhookFields();
        fields.Add(new("deep", new string('[', WebhookBody.MaxDepth) + new string(']', WebhookBody.MaxDepth)));

        Assert.That(ErrorOf(TestData.Json(fields))?.Field, Is.EqualTo("body"));
    }

    [Test]
    public void AcceptsNestingUpToMaxDepth()
    {
        var fields = TestData.WebhookFields();
        fields.Add(new("deep", new string('[', WebhookBody.MaxDepth - 1) + new string(']', WebhookBody.MaxDepth - 1)));

        Assert.That(ErrorOf(TestData.Json(fields)), Is.Null);
    }

    [Test]
    public void RefusesVeryDeepNestingWithoutThrowing()
    {
        var fields = TestData.WebhookFields();
        fields.Add(new("deep", new string('[', 100_000) + new string(']', 100_000)));

        Assert.That(ErrorOf(TestData.Json(fields))?.Field, Is.EqualTo("body"));
    }

    [TestCaseSource(nameof(RequiredFields))]
    public void RefusesABodyMissingARequiredField(string field)
    {
        var fields = TestData.WebhookFields();
        fields.RemoveAll(f => f.Key == field);

        Assert.That(ErrorOf(TestData.Json(fields))?.Field, Is.EqualTo(field));
    }

    [TestCaseSource(nameof(RequiredFields))]
    public void RefusesARequiredFieldThatIsEmpty(string field)
    {
        var fields = TestData.WebhookFields().Select(f => f.Key == field ? new KeyValuePair<string, string>(field, "\"\"") : f);

        Assert.That(ErrorOf(TestData.Json(fields))?.Field, Is.EqualTo(field));
    }

    private static IEnumerable<TestCaseData> NonStringValues() =>
        from field in RequiredFields
        from value in new[] { "123", "true", "null", "{}", """["client:bob"]""" }
        select new TestCaseData(field, value).SetArgDisplayNames(field, value);

    [TestCaseSource(nameof(NonStringValues))]
    public void RefusesARoutingFieldThatIsNotAString(string field, string value)
    {
        var fields = TestData.WebhookFields();
        fields.RemoveAll(f => f.Key == field);
        fields.Add(new(field, value));

        Assert.That(ErrorOf(TestData.Json(fields))?.Field, Is.EqualTo(field));
    }

    [TestCase("twi_to", "\"client:mallory\"")]
    [TestCase("twi_to", "\"client:bob\"")]
    [TestCase("twi_account_sid", "\"" + TestData.OtherAccountSidValue + "\"")]
    [TestCase("twi_message_id", "\"WB2\"")]
    public void RefusesARepeatedRoutingField(string field, string repeat)
    {
        var fields = TestData.WebhookFields();
        fields.Add(new(field, repeat));

        Assert.That(ErrorOf(TestData.Json(fields))?.Field, Is.EqualTo(field));
    }

    [TestCase("bob", TestName = "RefusesTwiToWithoutClientPrefix")]
    [TestCase("+15551234567", TestName = "RefusesTwiToPhoneNumber")]
    [TestCase("client:", TestName = "RefusesTwiToWithEmptyIdentity")]
    [TestCase("client:b\u0001b", TestName = "RefusesTwiToWithControlCharacter")]
    [TestCase("Client:bob", TestName = "RefusesTwiToWithCapitalisedPrefix")]
    public void RefusesTwiToThatIsNotAClient(string to)
    {
        Assert.That(ErrorOf(TestData.WebhookBody(to: to))?.Field, Is.EqualTo("twi_to"));
    }

    /// <summary>Stored fields take no control characters (PostgreSQL text cannot hold U+0000; found by the HTTP fuzz tests).</summary>
    [TestCase("twi_call_sid", "\"CA\\u00001\"")]
    [TestCase("twi_message_id", "\"WB\\u00001\"")]
    [TestCase("twi_message_type", "\"twilio.voice.call\\n\"")]
    [TestCase("twi_from", "\"client:al\\u0001ice\"")]
    public void RefusesAControlCharacterInAStoredField(string field, string value)
    {
        var fields = TestData.WebhookFields();
        fields.RemoveAll(f => f.Key == field);
        fields.Add(new(field, value));

        Assert.That(ErrorOf(TestData.Json(fields))?.Field, Is.EqualTo(field));
    }

    [Test]
    public void RefusesTwiToWithAnIdentityOver256Characters()
    {
        var to = "client:" + new string('b', 257);

        Assert.That(ErrorOf(TestData.WebhookBody(to: to))?.Field, Is.EqualTo("twi_to"));
    }

    [Test]
    public void AcceptsTwiToWithAnIdentityOf256Characters()
    {
        var identity = new string('b', 256);

        var parsed = WebhookBody.TryParse(TestData.WebhookBody(to: "client:" + identity), out var body, out _);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(parsed, Is.True);
            Assert.That(body!.Identity.Value, Is.EqualTo(identity));
        }
    }

    [TestCase("AC123", TestName = "RefusesShortAccountSid")]
    [TestCase("CA0123456789abcdef0123456789abcdef", TestName = "RefusesCallSidAsAccountSid")]
    [TestCase("AC0123456789abcdef0123456789abcdeZ", TestName = "RefusesNonHexAccountSid")]
    public void RefusesAMalformedAccountSid(string accountSid)
    {
        Assert.That(ErrorOf(TestData.WebhookBody(accountSid: accountSid))?.Field, Is.EqualTo("twi_account_sid"));
    }

    [Test]
    public void RefusesAnOverLongMessageId()
    {
        Assert.That(ErrorOf(TestData.WebhookBody(messageId: new string('W', 257)))?.Field, Is.EqualTo("twi_message_id"));
    }

    private static void ReplaceMarker(byte[] json, byte marker, byte replacement)
    {
        var at = Array.IndexOf(json, marker);
        Assert.That(at, Is.GreaterThanOrEqualTo(0), "the marker is in the body");
        json[at] = replacement;
    }
}
