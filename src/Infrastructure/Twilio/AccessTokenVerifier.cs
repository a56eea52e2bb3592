using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Infrastructure.Configuration;
using Microsoft.Extensions.Options;

namespace CallNotify.Infrastructure.Twilio;

/// <summary>
/// Verifies Twilio Access Tokens (PROTOCOLS.md): exactly HS256, the signature in constant time with the secret of the
/// API key named by <c>iss</c> among those configured for the account in <c>sub</c>, <c>exp</c> and <c>nbf</c> with
/// <see cref="ClockSkew"/>, and a valid <c>grants.identity</c>. The token itself is never logged or echoed.
/// </summary>
public sealed class AccessTokenVerifier : IAccessTokenVerifier
{
    /// <summary>How far the caller's clock may be from ours.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(60);

    /// <summary>Longer than any Access Token Twilio's libraries mint with a voice grant.</summary>
    internal const int MaxTokenLength = 8192;

    private readonly Dictionary<(string Account, string KeySid), byte[]> _secrets;
    private readonly HashSet<string> _accounts;
    private readonly TimeProvider _time;

    public AccessTokenVerifier(IOptions<TwilioOptions> options, TimeProvider time)
    {
        _time = time;
        _secrets = [];
        _accounts = new HashSet<string>(StringComparer.Ordinal);
        foreach (var account in options.Value.Accounts)
        {
            if (account.AccountSid is not { } sid)
            {
                continue;
            }

            _accounts.Add(sid);
            foreach (var key in account.ApiKeys)
            {
                if (key.Sid is { } keySid && key.Secret is { } secret)
                {
                    _secrets[(sid, keySid)] = Encoding.UTF8.GetBytes(secret);
                }
            }
        }
    }

    public bool LooksLikeAccessToken(string? token) =>
        token is { Length: > 0 and <= MaxTokenLength } && token.AsSpan().Count('.') == 2;

    public AccessTokenVerdict Verify(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return AccessTokenVerdict.Refused("An Access Token is required (Authorization: Bearer).");
        }

        if (_secrets.Count == 0)
        {
            return AccessTokenVerdict.Refused("No API key is configured (Twilio:Accounts:N:ApiKeys), so no Access Token is accepted.");
        }

        if (!LooksLikeAccessToken(token))
        {
            return AccessTokenVerdict.Refused("The Access Token is malformed.");
        }

        var parts = token.Split('.');
        if (!TryDecode(parts[0], out var headerBytes) || !TryDecode(parts[1], out var payloadBytes) || !TryDecode(parts[2], out var signature))
        {
            return AccessTokenVerdict.Refused("The Access Token is malformed.");
        }

        Header? header;
        Payload? payload;
        try
        {
            header = JsonSerializer.Deserialize(headerBytes, AccessTokenJsonContext.Default.Header);
            payload = JsonSerializer.Deserialize(payloadBytes, AccessTokenJsonContext.Default.Payload);
        }
        catch (JsonException)
        {
            return AccessTokenVerdict.Refused("The Access Token is malformed.");
        }

        if (header?.Alg != "HS256")
        {
            return AccessTokenVerdict.Refused("The Access Token must be signed with HS256.");
        }

        if (payload is null || !AccountSid.TryParse(payload.Sub, out var account) || !_accounts.Contains(account.Value))
        {
            return AccessTokenVerdict.Refused("The Access Token's account (sub) is not served here.");
        }

        if (payload.Iss is null || !_secrets.TryGetValue((account.Value, payload.Iss), out var secret))
        {
            return AccessTokenVerdict.Refused("The Access Token's API key (iss) is not configured for its account.");
        }

        var signed = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
        var expected = HMACSHA256.HashData(secret, signed);
        if (!CryptographicOperations.FixedTimeEquals(expected, signature))
        {
            return AccessTokenVerdict.Refused("The Access Token's signature is wrong.");
        }

        var now = _time.GetUtcNow();
        if (payload.Exp is not { } exp || exp is < 0 or > MaxUnixSeconds || DateTimeOffset.FromUnixTimeSeconds(exp) + ClockSkew <= now)
        {
            return AccessTokenVerdict.Refused("The Access Token has expired.");
        }

        if (payload.Nbf is { } nbf && (nbf is < 0 or > MaxUnixSeconds || DateTimeOffset.FromUnixTimeSeconds(nbf) - ClockSkew > now))
        {
            return AccessTokenVerdict.Refused("The Access Token is not valid yet (nbf).");
        }

        if (payload.Grants?.Identity is not { } identity || !ClientIdentity.IsValid(identity))
        {
            return AccessTokenVerdict.Refused("The Access Token has no valid identity (grants.identity).");
        }

        return AccessTokenVerdict.Valid(new AccessTokenClaims(
            account,
            ClientIdentity.Parse(identity),
            DateTimeOffset.FromUnixTimeSeconds(exp),
            IssuedAt(payload),
            payload.Grants.Voice?.Incoming?.Allow == true));
    }

    private const long MaxUnixSeconds = 253_402_300_799;

    private static readonly TimeSpan IssueTimePrecision = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The earliest the token may have been issued. Twilio's <c>jti</c> is the key SID, a dash and the issue time in
    /// whole Unix seconds, which a library may round up: a second is taken off, so that every token issued before a
    /// sign-out counts as such (one minted within a second after it does too, and the app mints another).
    /// </summary>
    private static DateTimeOffset IssuedAt(Payload payload)
    {
        var dash = payload.Jti?.LastIndexOf('-') ?? -1;
        if (dash > 0
            && long.TryParse(payload.Jti.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            && seconds <= MaxUnixSeconds)
        {
            return DateTimeOffset.FromUnixTimeSeconds(seconds) - IssueTimePrecision;
        }

        return payload.Nbf is { } nbf and >= 0 and <= MaxUnixSeconds ? DateTimeOffset.FromUnixTimeSeconds(nbf) : DateTimeOffset.MinValue;
    }

    private static bool TryDecode(string part, out byte[] bytes)
    {
        bytes = [];
        if (part.Length == 0 || !Base64Url.IsValid(part))
        {
            return false;
        }

        bytes = Base64Url.DecodeFromChars(part);
        return true;
    }

    internal sealed record Header(string? Alg, string? Typ, string? Cty);

    internal sealed record Payload(string? Jti, string? Iss, string? Sub, long? Exp, long? Nbf, Grants? Grants);

    internal sealed record Grants(string? Identity, VoiceGrant? Voice);

    internal sealed record VoiceGrant(IncomingGrant? Incoming);

    internal sealed record IncomingGrant(bool? Allow);
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(AccessTokenVerifier.Header))]
[System.Text.Json.Serialization.JsonSerializable(typeof(AccessTokenVerifier.Payload))]
internal sealed partial class AccessTokenJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
