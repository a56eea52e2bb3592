using System.Text;
using System.Text.Json;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;

namespace CallNotify.Application.Tests.Support;

/// <summary>Accounts, identities and webhook bodies shaped like the ones Twilio sends.</summary>
public static class TestData
{
    public const string AccountSidValue = "AC0123456789abcdef0123456789abcdef";
    public const string OtherAccountSidValue = "ACfedcba9876543210fedcba9876543210";
    public const string WebhookUrl = "https://callnotify.example.com/calls/notificationWebhook?bodySHA256=ab";

    public static readonly AccountSid Account = AccountSid.Parse(AccountSidValue);
    public static readonly AccountSid OtherAccount = AccountSid.Parse(OtherAccountSidValue);
    public static readonly ClientIdentity Bob = ClientIdentity.Parse("bob");

    /// <summary>The fields of a Twilio call notification, as (name, JSON text of the value), in Twilio's order.</summary>
    public static List<KeyValuePair<string, string>> WebhookFields(
        string messageId = "WB0123456789abcdef0123456789abcdef",
        string to = "client:bob",
        string accountSid = AccountSidValue) =>
    [
        new("twi_account_sid", Quote(accountSid)),
        new("twi_bridge_token", Quote("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl")),
        new("twi_call_sid", Quote("CA0123456789abcdef0123456789abcdef")),
        new("twi_from", Quote("client:alice")),
        new("twi_message_id", Quote(messageId)),
        new("twi_message_type", Quote("twilio.voice.call")),
        new("twi_to", Quote(to)),
        new("twi_params", Quote("k=v&k2=v2")),
    ];

    /// <summary>A JSON object made of the fields exactly as given (duplicates and raw values included).</summary>
    public static byte[] Json(IEnumerable<KeyValuePair<string, string>> fields) =>
        Encoding.UTF8.GetBytes("{" + string.Join(",", fields.Select(f => $"{Quote(f.Key)}:{f.Value}")) + "}");

    public static byte[] WebhookBody(
        string messageId = "WB0123456789abcdef0123456789abcdef",
        string to = "client:bob",
        string accountSid = AccountSidValue) =>
        Json(WebhookFields(messageId, to, accountSid));

    public static string Quote(string value) => JsonSerializer.Serialize(value);

    public static Binding FcmBinding(string token, DateTimeOffset now, ClientIdentity? identity = null) =>
        Binding.Register(
            Account, identity ?? Bob, ChannelKind.Fcm, PushAddress.Parse(ChannelKind.Fcm, token), ApnsEnvironment.Production, null, now, TimeSpan.FromDays(30));

    public static Binding ApnsBinding(ChannelKind channel, string token, DateTimeOffset now) =>
        Binding.Register(
            Account, Bob, channel, PushAddress.Parse(channel, token), ApnsEnvironment.Sandbox, "com.example.voice", now, TimeSpan.FromDays(30));
}
