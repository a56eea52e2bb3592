using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Twilio.Jwt.AccessToken;

namespace CallNotify.Api.IntegrationTests.Support;

/// <summary>Twilio Access Tokens for tests, minted with Twilio's own library (the reference), and a few forged by hand.</summary>
public static class AccessTokens
{
    public const string ApiKeySid = "SK11111111111111111111111111111111";
    public const string ApiKeySecret = "test-api-key-secret-account-one!";
    public const string OtherApiKeySid = "SK22222222222222222222222222222222";
    public const string OtherApiKeySecret = "test-api-key-secret-account-two!";

    /// <summary>The settings that make the test accounts accept tokens of their API keys.</summary>
    public static Dictionary<string, string?> Settings() => new()
    {
        ["Twilio:Accounts:0:ApiKeys:0:Sid"] = ApiKeySid,
        ["Twilio:Accounts:0:ApiKeys:0:Secret"] = ApiKeySecret,
        ["Twilio:Accounts:1:ApiKeys:0:Sid"] = OtherApiKeySid,
        ["Twilio:Accounts:1:ApiKeys:0:Secret"] = OtherApiKeySecret,
    };

    /// <summary>A token as the Voice SDK's backend mints it: identity, incoming calls allowed unless said otherwise.</summary>
    public static string Mint(
        string identity,
        string accountSid = CallNotifyApp.AccountSid,
        string keySid = ApiKeySid,
        string secret = ApiKeySecret,
        TimeSpan? validFor = null,
        DateTime? notBefore = null,
        bool incomingAllowed = true,
        bool voiceGrant = true)
    {
        var grants = new HashSet<IGrant>();
        if (voiceGrant)
        {
            grants.Add(new VoiceGrant { IncomingAllow = incomingAllowed, OutgoingApplicationSid = "AP00000000000000000000000000000000" });
        }

        return new Token(accountSid, keySid, secret, identity, expiration: DateTime.UtcNow + (validFor ?? TimeSpan.FromHours(1)), nbf: notBefore, grants: grants).ToJwt();
    }

    /// <summary>A token with the given header and claims, signed HS256 with <paramref name="secret"/> (or not at all).</summary>
    public static string Forge(string headerJson, string payloadJson, string? secret = ApiKeySecret)
    {
        var signed = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(headerJson)) + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payloadJson));
        var signature = secret is null ? string.Empty : Base64Url.EncodeToString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes(signed)));
        return signed + "." + signature;
    }

    /// <summary>The claims of a good token, as JSON, for <see cref="Forge"/>.</summary>
    public static string Claims(string identity, string accountSid = CallNotifyApp.AccountSid, string keySid = ApiKeySid, long? exp = null) =>
        "{\"jti\":\"" + keySid + "-" + DateTimeOffset.UtcNow.ToUnixTimeSeconds() + "\",\"iss\":\"" + keySid + "\",\"sub\":\"" + accountSid
        + "\",\"exp\":" + (exp ?? DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds())
        + ",\"grants\":{\"identity\":\"" + identity + "\",\"voice\":{\"incoming\":{\"allow\":true}}}}";

    public const string Hs256Header = """{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}""";
}
