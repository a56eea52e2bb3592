using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using CallNotify.Infrastructure.Configuration;
using Microsoft.Extensions.Options;

namespace CallNotify.Infrastructure.WebSockets;

/// <summary>
/// Compact signed tokens for WebSocket clients: <c>base64url(claims JSON) "." base64url(HMAC-SHA256(key, claims JSON))</c>.
/// The claims are the account, the identity, the expiry (Unix seconds) and the issue time (Unix milliseconds: a sign-out
/// everywhere refuses the tokens issued at or before it). A token from before issue times were written has none, and
/// counts as issued at the beginning of time.
/// </summary>
public sealed class WebSocketTokenService(IOptions<WebSocketTokenOptions> options, TimeProvider time) : IWebSocketTokenService
{
    /// <summary>
    /// The longest token this service issues, from the longest valid identity: every identity character written as a
    /// six-byte JSON escape (<c>\uXXXX</c>, the worst case), the account, the expiry and the JSON around them, in
    /// Base64url, then the dot and the MAC. A token longer than that was not issued here and is refused unread.
    /// </summary>
    internal static readonly int MaxTokenLength =
        Base64Url.GetEncodedLength("{\"a\":\"\",\"i\":\"\",\"e\":-9223372036854775808,\"t\":-9223372036854775808}".Length + AccountSid.Length + (6 * ClientIdentity.MaxLength))
        + 1 + Base64Url.GetEncodedLength(HMACSHA256.HashSizeInBytes);

    private readonly byte[] _key = options.Value.KeyBytes();

    // The instants a DateTimeOffset can hold, 0001-01-01 to 9999-12-31.
    private const long MinUnixSeconds = -62_135_596_800;
    private const long MaxUnixSeconds = 253_402_300_799;
    private const long MinUnixMilliseconds = MinUnixSeconds * 1000;
    private const long MaxUnixMilliseconds = (MaxUnixSeconds * 1000) + 999;

    public WebSocketToken Issue(AccountSid accountSid, ClientIdentity identity, DateTimeOffset expiresAt)
    {
        var expires = expiresAt.ToUnixTimeSeconds();
        var claims = JsonSerializer.SerializeToUtf8Bytes(
            new TokenClaims(accountSid.Value, identity.Value, expires, time.GetUtcNow().ToUnixTimeMilliseconds()),
            WebSocketJsonContext.Default.TokenClaims);
        var mac = HMACSHA256.HashData(_key, claims);
        var token = Base64Url.EncodeToString(claims) + "." + Base64Url.EncodeToString(mac);
        return new WebSocketToken(token, DateTimeOffset.FromUnixTimeSeconds(expires));
    }

    public WebSocketClaims? Validate(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenLength)
        {
            return null;
        }

        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || !Base64Url.IsValid(token.AsSpan(0, dot)) || !Base64Url.IsValid(token.AsSpan(dot + 1)))
        {
            return null;
        }

        var claims = Base64Url.DecodeFromChars(token.AsSpan(0, dot));
        var presented = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
        var expected = HMACSHA256.HashData(_key, claims);
        if (!CryptographicOperations.FixedTimeEquals(expected, presented))
        {
            return null;
        }

        TokenClaims? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize(claims, WebSocketJsonContext.Default.TokenClaims);
        }
        catch (JsonException)
        {
            return null;
        }

        if (parsed is null
            || !AccountSid.TryParse(parsed.A, out var account)
            || !ClientIdentity.IsValid(parsed.I))
        {
            return null;
        }

        if (parsed.E is < MinUnixSeconds or > MaxUnixSeconds || parsed.T is < MinUnixMilliseconds or > MaxUnixMilliseconds)
        {
            return null;
        }

        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(parsed.E);
        var issuedAt = parsed.T is { } t ? DateTimeOffset.FromUnixTimeMilliseconds(t) : DateTimeOffset.MinValue;
        return expiresAt <= time.GetUtcNow() ? null : new WebSocketClaims(account, ClientIdentity.Parse(parsed.I), expiresAt, issuedAt);
    }
}

/// <summary>Token claims: account (a), identity (i), expiry in Unix seconds (e), issue time in Unix milliseconds (t).</summary>
internal sealed record TokenClaims(string A, string I, long E, long? T);
