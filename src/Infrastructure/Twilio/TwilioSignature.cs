using System.Security.Cryptography;
using System.Text;

namespace CallNotify.Infrastructure.Twilio;

/// <summary>
/// Twilio's request signature for a JSON body (PROTOCOLS.md): the URL carries <c>bodySHA256=&lt;hex&gt;</c> and the
/// signature is Base64(HMAC-SHA1(Auth Token, URL)). The one implementation of signing, beside the verifier that checks
/// it (<see cref="TwilioSignatureVerifier"/>); the warm-up, the tests and the benchmark sign with it. It needs nothing
/// but the base library, so the benchmark links this file alone.
/// </summary>
public static class TwilioSignature
{
    public const string BodyHashParameter = "bodySHA256";

    /// <summary><paramref name="url"/> with <c>bodySHA256</c> (the lower-case hex SHA-256 of <paramref name="body"/>) appended to its query.</summary>
    public static string WithBodyHash(string url, ReadOnlySpan<byte> body)
    {
        var separator = !url.Contains('?', StringComparison.Ordinal) ? "?" : url.EndsWith('?') || url.EndsWith('&') ? string.Empty : "&";
        return url + separator + BodyHashParameter + "=" + Convert.ToHexStringLower(SHA256.HashData(body));
    }

    /// <summary>The <c>X-Twilio-Signature</c> Twilio sends for <paramref name="url"/>.</summary>
    public static string Sign(string authToken, string url) => Sign(Encoding.UTF8.GetBytes(authToken), url);

    /// <inheritdoc cref="Sign(string, string)"/>
#pragma warning disable CA5350 // HMAC-SHA1 is Twilio's signature algorithm, and sound as a MAC.
    public static string Sign(ReadOnlySpan<byte> authToken, string url) =>
        Convert.ToBase64String(HMACSHA1.HashData(authToken, Encoding.UTF8.GetBytes(url)));
#pragma warning restore CA5350

    /// <summary>
    /// The other form of <paramref name="url"/> a signature may have been made over, as Twilio's helper libraries accept
    /// it (twilio-csharp's <c>RequestValidator</c>, twilio-python's <c>remove_port</c>/<c>add_port</c>): with an
    /// explicit port, the URL without it, whatever the port; without one, the URL with the scheme's default port
    /// (<c>:443</c>, <c>:80</c>). Null for a URL that is neither http nor https.
    /// </summary>
    public static string? PortVariant(string url)
    {
        int defaultPort;
        int schemeLength;
        if (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            defaultPort = 443;
            schemeLength = "https://".Length;
        }
        else if (url.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            defaultPort = 80;
            schemeLength = "http://".Length;
        }
        else
        {
            return null;
        }

        var authorityEnd = url.IndexOfAny(['/', '?', '#'], schemeLength);
        if (authorityEnd < 0)
        {
            authorityEnd = url.Length;
        }

        var authority = url[schemeLength..authorityEnd];
        var hostEnd = authority.LastIndexOf(']') + 1; // after an IPv6 literal, if any
        var colon = authority.IndexOf(':', hostEnd);
        var newAuthority = colon < 0
            ? authority + ":" + defaultPort.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : authority[..colon];
        return string.Concat(url.AsSpan(0, schemeLength), newAuthority, url.AsSpan(authorityEnd));
    }
}
