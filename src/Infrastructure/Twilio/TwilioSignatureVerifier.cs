using System.Security.Cryptography;
using System.Text;
using CallNotify.Application.Common.Ports;
using CallNotify.Infrastructure.Configuration;
using Microsoft.Extensions.Options;

namespace CallNotify.Infrastructure.Twilio;

/// <summary>
/// Twilio's request signature for JSON webhooks: Base64(HMAC-SHA1(Auth Token, full URL)), where the URL's query
/// carries <c>bodySHA256</c>, the lower-case hex SHA-256 of the raw body. The URL is also tried with the default
/// port added or removed, as Twilio's helper libraries do. Every configured account's primary and secondary token
/// is tried, so a valid signature also tells which account sent the request. Comparisons are constant-time.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5350:Do not use weak cryptographic algorithms", Justification = "HMAC-SHA1 is Twilio's signature algorithm; HMAC-SHA1 remains sound as a MAC.")]
public sealed class TwilioSignatureVerifier : IWebhookSignatureVerifier, IDisposable
{
    /// <summary>The length of the Base64 of an HMAC-SHA1 (20 bytes).</summary>
    private const int SignatureLength = 28;

    private readonly bool _enabled;
    private readonly (string AccountSid, byte[] Key)[] _keys;

    /// <summary>
    /// Each thread's keyed HMACs, one per entry of <see cref="_keys"/>, reset after every use: a one-shot HMAC sets up
    /// the key (and, on OpenSSL 3, looks the algorithm up in its providers) on every call, twice per key and webhook.
    /// </summary>
    private readonly ThreadLocal<IncrementalHash[]> _macs;
    private readonly HashSet<string> _accounts;
    private readonly Dictionary<string, string> _primaryTokens;

    public TwilioSignatureVerifier(IOptions<TwilioOptions> options)
    {
        var value = options.Value;
        _enabled = value.ValidateSignatures;
        _accounts = new HashSet<string>(value.Accounts.Select(a => a.AccountSid!), StringComparer.Ordinal);
        _primaryTokens = value.Accounts
            .Where(a => a.AccountSid is not null && !string.IsNullOrEmpty(a.AuthToken))
            .ToDictionary(a => a.AccountSid!, a => a.AuthToken!, StringComparer.Ordinal);
        _keys = [
            .. value.Accounts.SelectMany(a => new[] { a.AuthToken, a.SecondaryAuthToken }
                .Where(t => !string.IsNullOrEmpty(t))
                .Select(t => (a.AccountSid!, Encoding.UTF8.GetBytes(t!)))),
        ];
        _macs = new ThreadLocal<IncrementalHash[]>(
            () => [.. _keys.Select(k => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA1, k.Key))],
            trackAllValues: true);
    }

    public void Dispose()
    {
        foreach (var mac in _macs.Values.SelectMany(m => m))
        {
            mac.Dispose();
        }

        _macs.Dispose();
    }

    public bool IsConfigured(string accountSid) => _accounts.Contains(accountSid);

    public IReadOnlyList<string> Accounts => [.. _primaryTokens.Keys];

    public SignedWebhook? SignAs(string accountSid, string url, ReadOnlySpan<byte> body)
    {
        if (!_primaryTokens.TryGetValue(accountSid, out var authToken))
        {
            return null;
        }

        var signedUrl = TwilioSignature.WithBodyHash(url, body);
        return new SignedWebhook(signedUrl, TwilioSignature.Sign(authToken, signedUrl));
    }

    public SignatureVerdict Verify(string url, string? signature, ReadOnlySpan<byte> body)
    {
        if (!_enabled)
        {
            return SignatureVerdict.NotChecked;
        }

        // The header must be exactly the Base64 of an HMAC-SHA1, as Twilio compares it: decoding alone would also take
        // white space inside it and other spellings of the same bytes (the unused low bits of the last character).
        Span<byte> presented = stackalloc byte[HMACSHA1.HashSizeInBytes];
        Span<char> canonical = stackalloc char[SignatureLength];
        if (signature is not { Length: SignatureLength }
            || !Convert.TryFromBase64String(signature, presented, out var written)
            || written != HMACSHA1.HashSizeInBytes
            || !Convert.TryToBase64Chars(presented, canonical, out _)
            || !canonical.SequenceEqual(signature))
        {
            return SignatureVerdict.Invalid;
        }

        // A JSON body is protected only through the hash in the signed URL, so the hash is required.
        if (!BodyHashMatches(url, body))
        {
            return SignatureVerdict.Invalid;
        }

        var asGiven = Encoding.UTF8.GetBytes(url);
        var alternate = TwilioSignature.PortVariant(url) is { } other ? Encoding.UTF8.GetBytes(other) : null;
        Span<byte> computed = stackalloc byte[HMACSHA1.HashSizeInBytes];
        string? signedBy = null;

        // Every key and variant is computed, match or not, so timing does not tell which account matched.
        var macs = _macs.Value!;
        for (var i = 0; i < _keys.Length; i++)
        {
            var match = Matches(macs[i], asGiven, computed, presented);
            if (alternate is not null)
            {
                match |= Matches(macs[i], alternate, computed, presented);
            }

            if (match)
            {
                signedBy ??= _keys[i].AccountSid;
            }
        }

        return signedBy is null ? SignatureVerdict.Invalid : SignatureVerdict.SignedByAccount(signedBy);
    }

    private static bool Matches(IncrementalHash mac, byte[] url, Span<byte> computed, ReadOnlySpan<byte> presented)
    {
        mac.AppendData(url);
        mac.GetHashAndReset(computed);
        return CryptographicOperations.FixedTimeEquals(computed, presented);
    }

    /// <summary>True when the URL's <c>bodySHA256</c> equals the lower-case hex SHA-256 of the body.</summary>
    internal static bool BodyHashMatches(string url, ReadOnlySpan<byte> body)
    {
        var expected = QueryValue(url, TwilioSignature.BodyHashParameter);
        if (expected is null || expected.Length != SHA256.HashSizeInBytes * 2)
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(body, hash);
        Span<byte> hex = stackalloc byte[SHA256.HashSizeInBytes * 2];
        Convert.TryToHexStringLower(hash, hex, out _);
        Span<byte> given = stackalloc byte[SHA256.HashSizeInBytes * 2];
        if (Encoding.ASCII.GetBytes(expected, given) != given.Length)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(hex, given);
    }

    /// <summary>The raw value of a query parameter (not decoded; a hex hash needs no decoding).</summary>
    internal static string? QueryValue(string url, string parameter)
    {
        var queryStart = url.IndexOf('?', StringComparison.Ordinal);
        if (queryStart < 0)
        {
            return null;
        }

        var fragment = url.IndexOf('#', queryStart);
        var query = url.AsSpan(queryStart + 1, (fragment < 0 ? url.Length : fragment) - queryStart - 1);
        string? found = null;
        foreach (var range in query.Split('&'))
        {
            var pair = query[range];
            var eq = pair.IndexOf('=');
            if (eq > 0 && pair[..eq].SequenceEqual(parameter))
            {
                if (found is not null)
                {
                    return null; // Twice is ambiguous: refuse.
                }

                found = pair[(eq + 1)..].ToString();
            }
        }

        return found;
    }
}
