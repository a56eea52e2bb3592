using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using CallNotify.Infrastructure.Twilio;

namespace CallNotify.Bench;

/// <summary>
/// Builds the benchmark's webhook requests exactly as Twilio builds them: a compact JSON body with Twilio's field names,
/// <c>bodySHA256</c> (lower-case hex SHA-256 of the body) appended to the URL's query, and
/// <c>X-Twilio-Signature</c> = Base64(HMAC-SHA1(Auth Token, full URL)).
/// </summary>
/// <remarks>
/// Request number <c>seq</c> always has the same body, so whoever receives it (a WebSocket client, the fake FCM server)
/// can tell which request it was from its <c>twi_message_id</c> alone and check the bytes it got.
/// <c>twi_message_id</c> is <c>WB</c> + the run tag (8 hex digits, new for every scenario) + <c>seq</c> (24 hex digits):
/// 34 characters, as Twilio's are.
/// </remarks>
internal sealed class WebhookRequests
{
    public const string Path = "/calls/notificationWebhook";

    // A bridge token of a real one's size (Twilio's are JWTs of a few hundred characters); CallNotify forwards it untouched.
    private const string BridgeToken =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJqdGkiOiJTSzAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmLTE3MDAwMDAwMDAiLCJpc3MiOiJT" +
        "SzAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmIiwic3ViIjoiQUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZiIsImV4cCI6MTcwMDAw" +
        "MzYwMCwiZ3JhbnRzIjp7InZvaWNlIjp7ImluY29taW5nIjp7ImFsbG93Ijp0cnVlfX19fQ.YmVuY2htYXJrLWJyaWRnZS10b2tlbi1zaWduYXR1cmU";

    private static readonly byte[] MessageIdKey = "\"twi_message_id\":\""u8.ToArray();

    private readonly string _accountSid;
    private readonly byte[] _authToken;
    private readonly string _webhookUrl;
    private readonly int _callees;
    private readonly byte[] _runTagBytes;

    public WebhookRequests(Uri baseUrl, string accountSid, string authToken, int callees)
    {
        _accountSid = accountSid;
        _authToken = Encoding.UTF8.GetBytes(authToken);
        _webhookUrl = new Uri(baseUrl, Path).ToString();
        _callees = callees;
        RunTag = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        _runTagBytes = Encoding.ASCII.GetBytes(RunTag);
    }

    /// <summary>The URL the requests go to, before <c>bodySHA256</c>: what <c>Twilio:WebhookUrl</c> must hold.</summary>
    public string WebhookUrl => _webhookUrl;

    public string RunTag { get; }

    public string AccountSid => _accountSid;

    public int Callees => _callees;

    public static string Identity(int k) => "bench-user-" + k.ToString(CultureInfo.InvariantCulture);

    public string MessageId(long seq) => "WB" + RunTag + seq.ToString("x24", CultureInfo.InvariantCulture);

    public int CalleeOf(long seq) => (int)(seq % _callees);

    public byte[] Body(long seq)
    {
        var id = RunTag + seq.ToString("x24", CultureInfo.InvariantCulture);
        return Encoding.UTF8.GetBytes(
            "{\"twi_account_sid\":\"" + _accountSid + "\"," +
            "\"twi_bridge_token\":\"" + BridgeToken + "\"," +
            "\"twi_call_sid\":\"CA" + id + "\"," +
            "\"twi_from\":\"client:bench-caller\"," +
            "\"twi_message_id\":\"WB" + id + "\"," +
            "\"twi_message_type\":\"twilio.voice.call\"," +
            "\"twi_to\":\"client:" + Identity(CalleeOf(seq)) + "\"," +
            "\"twi_params\":\"k=v&k2=v%202\"}");
    }

    /// <summary>The signed POST of request <paramref name="seq"/>.</summary>
    public HttpRequestMessage Create(long seq)
    {
        var body = Body(seq);
        var url = SignedUrl(_webhookUrl, body);
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("X-Twilio-Signature", Sign(_authToken, url));
        request.Headers.TryAddWithoutValidation("User-Agent", "TwilioProxy/1.1");
        return request;
    }

    /// <summary>Finds <c>"twi_message_id":"WB&lt;tag&gt;&lt;seq&gt;"</c> in bytes CallNotify passed on and reads <c>seq</c>.</summary>
    public bool TryReadSeq(ReadOnlySpan<byte> json, out long seq)
    {
        seq = -1;
        var at = json.IndexOf(MessageIdKey);
        if (at < 0)
        {
            return false;
        }

        var id = json[(at + MessageIdKey.Length)..];
        if (id.Length < 35 || id[0] != (byte)'W' || id[1] != (byte)'B' || id[34] != (byte)'"' || !id[2..10].SequenceEqual(_runTagBytes))
        {
            return false;
        }

        return long.TryParse(id[10..34], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out seq);
    }

    /// <summary>Twilio's URL for a JSON body: the webhook URL with <c>bodySHA256=&lt;hex&gt;</c> appended to its query.</summary>
    public static string SignedUrl(string url, ReadOnlySpan<byte> body) => TwilioSignature.WithBodyHash(url, body);

    /// <summary>Signed as the service's own verifier expects (the file is linked from src/Infrastructure/Twilio).</summary>
    public static string Sign(byte[] authToken, string url) => TwilioSignature.Sign(authToken, url);

    /// <summary>
    /// Checks the signing against the vectors of twilio-csharp's own tests (shared/PROTOCOLS.md), so a benchmark never
    /// runs with a signer that only CallNotify agrees with.
    /// </summary>
    public static void SelfTest()
    {
        var body = "{\"property\": \"value\", \"boolean\": true}"u8;
        var token = "12345"u8.ToArray();
        Check(Convert.ToHexStringLower(SHA256.HashData(body)), "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620", "body SHA-256");
        Check(Sign(token, SignedUrl("https://mycompany.com/myapp.php?foo=1&bar=2", body)), "a9nBmqA0ju/hNViExpshrM61xv4=", "signature with a query");
        Check(Sign(token, SignedUrl("https://mycompany.com/myapp.php", body)), "y77kIzt2vzLz71DgmJGsen2scGs=", "signature");
        Check(Sign(token, SignedUrl("https://mycompany.com:443/myapp.php?foo=1&bar=2", body)), "uzN7O1319XdYoYMfTT2eUM1PJT0=", "signature with :443");

        static void Check(string actual, string expected, string what)
        {
            if (!string.Equals(actual, expected, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"Signer self-test failed ({what}): {actual}, expected {expected}.");
            }
        }
    }
}
