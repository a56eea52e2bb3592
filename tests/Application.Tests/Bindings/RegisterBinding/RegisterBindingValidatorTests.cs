using CallNotify.Application.Bindings.RegisterBinding;
using CallNotify.Application.Tests.Support;

namespace CallNotify.Application.Tests.Bindings.RegisterBinding;

public class RegisterBindingValidatorTests
{
    private readonly RegisterBindingValidator _validator = new();

    private static RegisterBindingCommand Valid() =>
        new(TestData.AccountSidValue, "bob", "fcm", "fcm-token-1", null, null);

    private IEnumerable<string> InvalidProperties(RegisterBindingCommand command) =>
        _validator.Validate(command).Errors.Select(e => e.PropertyName).Distinct();

    private static IEnumerable<TestCaseData> ValidCommands()
    {
        yield return new TestCaseData(Valid()).SetArgDisplayNames("fcm");
        yield return new TestCaseData(Valid() with { Address = new string('a', 4096) }).SetArgDisplayNames("4096-char address");
        yield return new TestCaseData(Valid() with { Channel = "apns-voip", Address = "ABCDEF0123456789", Environment = "sandbox", AppId = "com.example.voice" }).SetArgDisplayNames("apns-voip sandbox");
        yield return new TestCaseData(Valid() with { Channel = "apns", Address = "abcdef", Environment = "production" }).SetArgDisplayNames("apns production");
        yield return new TestCaseData(Valid() with { Identity = new string('b', 256) }).SetArgDisplayNames("256-char identity");
    }

    [TestCaseSource(nameof(ValidCommands))]
    public void AcceptsAValidRegistration(RegisterBindingCommand command)
    {
        Assert.That(InvalidProperties(command), Is.Empty);
    }

    private static IEnumerable<TestCaseData> InvalidCommands()
    {
        yield return new TestCaseData(Valid() with { AccountSid = "AC123" }, "AccountSid").SetArgDisplayNames("short account");
        yield return new TestCaseData(Valid() with { AccountSid = null }, "AccountSid").SetArgDisplayNames("no account");
        yield return new TestCaseData(Valid() with { Identity = "" }, "Identity").SetArgDisplayNames("empty identity");
        yield return new TestCaseData(Valid() with { Identity = new string('b', 257) }, "Identity").SetArgDisplayNames("257-char identity");
        yield return new TestCaseData(Valid() with { Channel = "sms" }, "Channel").SetArgDisplayNames("unknown channel");
        yield return new TestCaseData(Valid() with { Channel = "websocket" }, "Channel").SetArgDisplayNames("websocket channel");
        yield return new TestCaseData(Valid() with { Channel = null }, "Channel").SetArgDisplayNames("no channel");
        yield return new TestCaseData(Valid() with { Address = new string('a', 4097) }, "Address").SetArgDisplayNames("4097-char address");
        yield return new TestCaseData(Valid() with { Address = "" }, "Address").SetArgDisplayNames("empty address");
        yield return new TestCaseData(Valid() with { Address = "two words" }, "Address").SetArgDisplayNames("address with a space");
        yield return new TestCaseData(Valid() with { Channel = "apns", Address = "not-a-hex-token" }, "Address").SetArgDisplayNames("non-hex apns token");
        yield return new TestCaseData(Valid() with { Channel = "apns-voip", Address = "abcdeg" }, "Address").SetArgDisplayNames("non-hex voip token");
        yield return new TestCaseData(Valid() with { Environment = "staging" }, "Environment").SetArgDisplayNames("unknown environment");
        yield return new TestCaseData(Valid() with { Environment = "Sandbox" }, "Environment").SetArgDisplayNames("capitalised environment");
        yield return new TestCaseData(Valid() with { AppId = "" }, "AppId").SetArgDisplayNames("empty app id");
        yield return new TestCaseData(Valid() with { AppId = new string('a', 256) }, "AppId").SetArgDisplayNames("256-char app id");
        yield return new TestCaseData(Valid() with { Channel = "apns", Address = "abcdef", AppId = "com.example\u0000app" }, "AppId").SetArgDisplayNames("app id with NUL");
    }

    [TestCaseSource(nameof(InvalidCommands))]
    public void RefusesAnInvalidFieldAndNamesOnlyIt(RegisterBindingCommand command, string property)
    {
        Assert.That(InvalidProperties(command), Is.EqualTo(new[] { property }));
    }

    [Test]
    public void ApnsAddressMessageSaysHexadecimal()
    {
        var result = _validator.Validate(Valid() with { Channel = "apns", Address = "xyz" });

        Assert.That(result.Errors.Single().ErrorMessage, Does.Contain("hexadecimal"));
    }
}
