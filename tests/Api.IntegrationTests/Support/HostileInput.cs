using System.Globalization;
using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;

namespace CallNotify.Api.IntegrationTests.Support;

/// <summary>One generated request part (a body, a query string, a path segment, a token) and how it was made.</summary>
public sealed record HostileCase(byte[] Bytes, string How)
{
    public string Text => Encoding.UTF8.GetString(Bytes);

    public override string ToString()
    {
        const int shown = 200;
        var text = new StringBuilder();
        foreach (var b in Bytes.AsSpan(0, Math.Min(Bytes.Length, shown)))
        {
            text.Append(b is >= 0x20 and < 0x7f ? ((char)b).ToString() : $"\\x{b:x2}");
        }

        return $"{How} ({Bytes.Length} bytes): {text}{(Bytes.Length > shown ? "…" : string.Empty)}";
    }
}

/// <summary>
/// FsCheck generators of hostile input for the HTTP-level tests: arbitrary bytes, invalid UTF-8, deep nesting, huge
/// strings, control characters, random JSON in each field. HTTP calls are async, so the cases are drawn up front from
/// a seed (<see cref="Seed"/>: <c>CALLNOTIFY_FUZZ_SEED</c> replays a run) and sent one by one.
/// </summary>
public static class HostileInput
{
    public const string SeedVariable = "CALLNOTIFY_FUZZ_SEED";

    /// <summary>The seed of this run: from <c>CALLNOTIFY_FUZZ_SEED</c> when set, else a fresh one (reported on failure).</summary>
    public static ulong Seed() =>
        ulong.TryParse(Environment.GetEnvironmentVariable(SeedVariable), NumberStyles.None, CultureInfo.InvariantCulture, out var seed)
            ? seed
            : (ulong)Random.Shared.NextInt64();

    public static T[] Sample<T>(Gen<T> generator, int count, ulong seed) => Gen.Sample(generator, count, new Rnd(seed), 50);

    // ---------------------------------------------------------------- text and JSON pieces

    private static readonly string[] Controls = ["\0", "\u0001", "\b", "\t", "\n", "\r", "\u001b", "\u001f", "\u007f", "\u0085"];

    /// <summary>One character or surrogate pair of text: letters, JSON punctuation, Unicode.</summary>
    private static readonly Gen<string> CleanUnits = Gen.Frequency(
        (10, Gen.Elements("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:+@".Select(c => c.ToString()))),
        (3, Gen.Elements("\"", "\\", "/", " ", "'", "{", "}", "[", "]", ",", "&", "=", "%", "?", "#")),
        (2, Gen.Elements("é", "ß", "中", "\u00a0", "\u2028", "\ufeff", "\ufffd", "😀")));

    /// <summary>The same, and control characters.</summary>
    private static readonly Gen<string> Units = Gen.Frequency((15, CleanUnits), (2, Gen.Elements(Controls)));

    /// <summary>Text of <paramref name="min"/> to <paramref name="max"/> characters, control characters included.</summary>
    public static Gen<string> Text(int min, int max) => TextOf(Units, min, max);

    /// <summary>Text without control characters.</summary>
    public static Gen<string> CleanText(int min, int max) => TextOf(CleanUnits, min, max);

    private static Gen<string> TextOf(Gen<string> units, int min, int max) =>
        Gen.Frequency((5, Gen.Choose(min, Math.Min(max, 20))), (1, Gen.Choose(min, max)))
            .SelectMany(n => Gen.ArrayOf(units, n))
            .Select(string.Concat);

    /// <summary>A JSON string literal of <paramref name="value"/>, with lone surrogates sometimes spliced in as escapes.</summary>
    public static Gen<string> Literal(string value) =>
        Gen.Frequency(
            (8, Gen.Constant(JsonSerializer.Serialize(value))),
            (1, Gen.Elements("\\ud800", "\\udfff", "\\u0000").Select(escape => JsonSerializer.Serialize(value).Insert(1, escape))));

    private static readonly Gen<string> Scalars = Gen.Frequency(
        (3, Gen.Elements("null", "true", "false", "0", "-1", "1.5e300", "1e-400", "123456789012345678901234567890", "-0.0")),
        (3, Text(0, 40).SelectMany(Literal)));

    /// <summary>Any JSON value, nested a little.</summary>
    public static readonly Gen<string> JsonValues = Gen.Sized(size => JsonValue(Math.Min(3, size / 10)));

    private static Gen<string> JsonValue(int depth) =>
        depth == 0
            ? Scalars
            : Gen.Frequency(
                (4, Scalars),
                (1, Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(JsonValue(depth - 1), n)).Select(v => "[" + string.Join(",", v) + "]")),
                (1, Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(
                        from key in Text(0, 10)
                        from value in JsonValue(depth - 1)
                        select JsonSerializer.Serialize(key) + ":" + value, n))
                    .Select(m => "{" + string.Join(",", m) + "}")));

    private static string Quote(string value) => JsonSerializer.Serialize(value);

    private static readonly Gen<string> NonStringValues = Gen.Elements("null", "true", "0", "-1.5", "[]", "{}", "[\"bob\"]", "{\"a\":\"b\"}");

    // ---------------------------------------------------------------- bodies of any kind

    private static readonly Gen<byte> AnyByte = Gen.Choose(0, 255).Select(b => (byte)b);

    private static readonly byte[] JsonishBytes = [.. Encoding.UTF8.GetBytes("{}[]\":,\\ \ntrue0123456789.-e"), 0x00, 0x1f, 0x80, 0xc3, 0xff];

    private static readonly byte[][] InvalidUtf8 = [[0x80], [0xc0, 0x80], [0xc3], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xfe], [0xff]];

    /// <summary>Bodies that are no JSON object at all, or malformed ones: what any endpoint taking JSON must refuse cleanly.</summary>
    public static Gen<HostileCase> GarbageBodies(int hugeUpTo) => Gen.Frequency(
        (2, Gen.Choose(0, 2000).SelectMany(n => Gen.ArrayOf(AnyByte, n)).Select(b => new HostileCase(b, "random bytes"))),
        (2, Gen.Choose(0, 500).SelectMany(n => Gen.ArrayOf(Gen.Elements(JsonishBytes), n)).Select(b => new HostileCase(b, "JSON-ish bytes"))),
        (1, Gen.Elements("", " ", "null", "42", "-0", "\"a string\"", "[]", "[1,2,3]", "[{}]", "true", "{", "}", "{}{}", "{\"a\":1,}", "\ufeff{}")
            .Select(text => new HostileCase(Encoding.UTF8.GetBytes(text), "not an object"))),
        (2, DeepNesting),
        (1, Gen.Choose(1024, hugeUpTo).SelectMany(n => Gen.Elements("a", "\\u0000", "é", "\\ud800").Select(unit => new HostileCase(
            Encoding.UTF8.GetBytes("{\"huge\":\"" + string.Concat(Enumerable.Repeat(unit, n / unit.Length)) + "\"}"), $"a string of {n} bytes of {unit}")))),
        (1, from at in Gen.Choose(0, 1000)
            from sequence in Gen.Elements(InvalidUtf8)
            from value in Text(1, 20)
            let json = Encoding.UTF8.GetBytes("{\"twi_to\":\"client:bob\",\"x\":" + JsonSerializer.Serialize(value) + "}")
            let position = at % json.Length
            select new HostileCase([.. json[..position], .. sequence, .. json[position..]], "invalid UTF-8 inserted")),
        (1, from control in Gen.Choose(0, 0x1f)
            select new HostileCase(Encoding.UTF8.GetBytes("{\"identity\":\"b" + (char)control + "b\",\"twi_to\":\"client:b" + (char)control + "b\"}"), $"raw control character 0x{control:x2} in strings")));

    /// <summary>Nesting from 17 to 20,000 levels (10,000 often), arrays or objects, closed or not, alone or inside an object.</summary>
    public static readonly Gen<HostileCase> DeepNesting =
        from depth in Gen.Frequency((2, Gen.Choose(17, 200)), (1, Gen.Choose(200, 20_000)), (2, Gen.Constant(10_000)))
        from opener in Gen.Elements("[", "{\"a\":", "[{\"twi_to\":")
        from closed in Gen.Elements(true, false)
        from inside in Gen.Elements(true, false)
        select Nested(depth, opener, closed, inside);

    private static HostileCase Nested(int depth, string opener, bool closed, bool inside)
    {
        var text = new StringBuilder(inside ? "{\"twi_account_sid\":\"" + CallNotifyApp.AccountSid + "\",\"x\":" : string.Empty);
        for (var i = 0; i < depth; i++)
        {
            text.Append(opener);
        }

        text.Append('1');
        if (closed)
        {
            var closer = opener switch { "[" => "]", "{\"a\":" => "}", _ => "}]" };
            for (var i = 0; i < depth; i++)
            {
                text.Append(closer);
            }

            text.Append(inside ? "}" : string.Empty);
        }

        return new HostileCase(Encoding.UTF8.GetBytes(text.ToString()), $"{depth} levels of {opener}{(closed ? string.Empty : " unclosed")}{(inside ? " in a field" : string.Empty)}");
    }

    // ---------------------------------------------------------------- admin: binding registrations

    private static readonly Gen<string> AccountSidValues = Gen.Frequency(
        (12, Gen.Elements(CallNotifyApp.AccountSid, CallNotifyApp.OtherAccountSid, CallNotifyApp.UnconfiguredAccountSid).Select(Quote)),
        (2, Gen.Elements("AC123", "ac11111111111111111111111111111111", "AC1111111111111111111111111111111g", "", " ").Select(Quote)),
        (1, NonStringValues),
        (1, Text(0, 40).SelectMany(Literal)));

    private static readonly Gen<string> Hex = Gen.Choose(1, 200).SelectMany(n => Gen.ArrayOf(Gen.Elements("0123456789abcdefABCDEF".ToCharArray()), n)).Select(c => new string(c));

    private static readonly Gen<string> Addresses = Gen.Frequency(
        (4, Hex.Select(Quote)),
        (2, Gen.Choose(1, 300).SelectMany(n => Gen.ArrayOf(Gen.Elements("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:_-".ToCharArray()), n))
            .Select(c => Quote(new string(c)))),
        (3, Text(0, 60).SelectMany(Literal)),
        (1, Gen.Elements(4095, 4096, 4097, 10_000).SelectMany(n => Gen.Elements('a', 'F', 'é').Select(c => JsonSerializer.Serialize(new string(c, n))))),
        (1, NonStringValues));

    /// <summary>A binding registration with every field random: often valid, often not, any JSON type in any field.</summary>
    public static readonly Gen<HostileCase> Registrations =
        from accountSid in AccountSidValues
        from identity in Gen.Frequency(
            (5, CleanText(1, 30).Select(Quote)),
            (2, Text(1, 30).SelectMany(Literal)),
            (1, Gen.Elements(0, 256, 257, 5000).Select(n => JsonSerializer.Serialize(new string('b', n)))),
            (1, NonStringValues))
        from channel in Gen.Frequency(
            (6, Gen.Elements("fcm", "apns", "apns-voip").Select(Quote)),
            (1, Gen.Elements("websocket", "sms", "FCM", "apns-alert", "", "fcm\u0000").Select(Quote)),
            (1, NonStringValues))
        from address in Addresses
        from environment in Gen.Frequency(
            (3, Gen.Constant<string?>(null)),
            (2, Gen.Elements("production", "sandbox", "Production", "staging", "").Select(e => (string?)JsonSerializer.Serialize(e))),
            (1, JsonValues.Select(v => (string?)v)))
        from appId in Gen.Frequency(
            (3, Gen.Constant<string?>(null)),
            (2, CleanText(1, 60).Select(v => (string?)Quote(v))),
            (1, Text(0, 60).SelectMany(Literal).Select(v => (string?)v)),
            (1, Gen.Elements(255, 256, 100_000).Select(n => (string?)JsonSerializer.Serialize(new string('c', n)))),
            (1, JsonValues.Select(v => (string?)v)))
        from extra in Gen.Frequency((3, Gen.Constant(string.Empty)), (1, JsonValues.Select(v => ",\"extra\":" + v)))
        let json = "{\"accountSid\":" + accountSid + ",\"identity\":" + identity + ",\"channel\":" + channel + ",\"address\":" + address
            + (environment is null ? string.Empty : ",\"environment\":" + environment)
            + (appId is null ? string.Empty : ",\"appId\":" + appId)
            + extra + "}"
        select new HostileCase(Encoding.UTF8.GetBytes(json), "a registration with random fields");

    // ---------------------------------------------------------------- admin: query strings and path segments

    private static readonly string[] AdminValues =
    [
        CallNotifyApp.AccountSid, "bob", "fcm", "apns", "active", "inactive", "0", "1", "200", "201", "-1", "2147483648", "1e3", "abc",
        "BD00000000000000000000000000000000", "WB0123456789abcdef0123456789abcdef", "eyJhIjoxfQ", string.Empty,
    ];

    /// <summary>Text for a URL: percent-encoded bytes of any value (NUL, invalid UTF-8), raw Unicode, reserved characters.</summary>
    public static readonly Gen<string> UrlText = Gen.Frequency(
        (3, Text(0, 40).Select(Uri.EscapeDataString)),
        (2, Gen.Choose(0, 30).SelectMany(n => Gen.ArrayOf(AnyByte, n)).Select(b => string.Concat(b.Select(x => $"%{x:X2}")))),
        (1, Gen.Elements("%00", "%ff", "%ED%A0%80", "%C0%AF", "%", "%zz", "%2", "..", "%2F", "%2e%2e", "+", "%20", "é", "中", "a=b", "&&", ";")),
        (1, Gen.Elements(AdminValues)),
        (1, Gen.Choose(300, 20_000).Select(n => new string('x', n))));

    private static readonly string[] ListParameters = ["accountSid", "identity", "channel", "status", "pageSize", "pageToken", "callSid"];

    /// <summary>A query string of known and unknown parameters, repeated or not, with hostile values.</summary>
    public static readonly Gen<string> QueryStrings =
        Gen.Choose(0, 6).SelectMany(n => Gen.ArrayOf(
            from name in Gen.Frequency((5, Gen.Elements(ListParameters)), (1, UrlText))
            from value in UrlText
            from form in Gen.Elements("{0}={1}", "{0}={1}", "{0}", "{0}=")
            select string.Format(CultureInfo.InvariantCulture, form, name, value), n))
        .Select(parameters => string.Join("&", parameters));

    // ---------------------------------------------------------------- the webhook

    private static readonly Gen<HostileCase> Notifications =
        from accountSid in Gen.Frequency(
            (8, Gen.Constant(JsonSerializer.Serialize(CallNotifyApp.AccountSid))),
            (1, Gen.Elements(CallNotifyApp.OtherAccountSid, CallNotifyApp.UnconfiguredAccountSid).Select(Quote)),
            (1, AccountSidValues))
        from callSid in Field(Gen.Constant("CA0123456789abcdef0123456789abcdef"))
        from messageId in Field(Gen.Constant("WB").SelectMany(prefix => Gen.Choose(0, int.MaxValue).Select(n => prefix + n.ToString(CultureInfo.InvariantCulture))))
        from messageType in Field(Gen.Constant("twilio.voice.call"))
        from to in Field(Gen.Frequency((3, Gen.Constant("client:bob")), (2, Gen.Elements("client:alice", "client:nobody")), (1, Text(1, 20).Select(identity => "client:" + identity))))
        from caller in Gen.Frequency((1, Gen.Constant<string?>(null)), (4, Field(Gen.Constant("client:alice")).Select(v => (string?)v)))
        from extras in Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(from key in Text(0, 12) from value in JsonValues select JsonSerializer.Serialize(key) + ":" + value, n))
        from padding in Gen.Frequency((4, Gen.Constant(0)), (1, Gen.Choose(60 * 1024, 70 * 1024)))
        let members = new[]
            {
                "\"twi_account_sid\":" + accountSid, "\"twi_call_sid\":" + callSid, "\"twi_message_id\":" + messageId,
                "\"twi_message_type\":" + messageType, "\"twi_to\":" + to,
            }
            .Concat(caller is null ? [] : ["\"twi_from\":" + caller])
            .Concat(extras)
            .Concat(padding == 0 ? [] : ["\"pad\":\"" + new string('p', padding) + "\""])
        select new HostileCase(Encoding.UTF8.GetBytes("{" + string.Join(",", members) + "}"), "a call notification with random fields");

    /// <summary>
    /// Webhook bodies: call notifications with random contents in every field (a valid one for bob now and then), and
    /// garbage of every kind, sized up to past the 64 KiB limit.
    /// </summary>
    public static readonly Gen<HostileCase> WebhookBodies = Gen.Frequency(
        (2, GarbageBodies(200 * 1024)),
        (5, Notifications));

    /// <summary>A routing field's value: mostly the usual one, else random text (controls, NUL, surrogates) or another JSON type.</summary>
    private static Gen<string> Field(Gen<string> usual) => Gen.Frequency(
        (16, usual.Select(Quote)),
        (2, Text(1, 40).SelectMany(Literal)),
        (1, Gen.Elements(257, 300).Select(n => JsonSerializer.Serialize(new string('x', n)))),
        (1, NonStringValues));

    // ---------------------------------------------------------------- header values

    /// <summary>What an HTTP client can put in a header: visible ASCII, spaces and tabs; sometimes Base64-like, sometimes 40 KB.</summary>
    public static readonly Gen<string> HeaderValues = Gen.Frequency(
        (4, Gen.Choose(0, 100).SelectMany(n => Gen.ArrayOf(Gen.Frequency((20, Gen.Choose(0x20, 0x7e)), (1, Gen.Constant(9))), n))
            .Select(c => new string([.. c.Select(x => (char)x)]))),
        (2, Gen.Choose(0, 60).SelectMany(n => Gen.ArrayOf(Gen.Elements("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= ".ToCharArray()), n))
            .Select(c => new string(c))),
        (1, Gen.Elements(1_000, 10_000, 40_000).Select(n => new string('A', n))));

    // ---------------------------------------------------------------- WebSocket tokens

    public static readonly Gen<string> Tokens = Gen.Frequency(
        (3, UrlText),
        (1, Gen.Elements("a.b", ".", "..", "eyJhIjoxfQ.", ".c2ln", "eyJ0eXAiOiJKV1QifQ.eyJ9.AAAA")),
        (1, Gen.Choose(1, 200).SelectMany(n => Gen.ArrayOf(Gen.Elements("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.".ToCharArray()), n)).Select(c => new string(c))));
}
