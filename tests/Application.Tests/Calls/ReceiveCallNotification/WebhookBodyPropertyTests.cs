using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using CallNotify.Application.Calls.ReceiveCallNotification;
using CallNotify.Domain.Common;
using CallNotify.Tests.Common;
using FsCheck;
using FsCheck.Fluent;
using static CallNotify.Tests.Common.PropertyRuns;

namespace CallNotify.Application.Tests.Calls.ReceiveCallNotification;

/// <summary>
/// Hostile input for <see cref="WebhookBody.TryParse"/> (issue #5), generated with FsCheck: arbitrary bytes, invalid
/// UTF-8, deep nesting, strings of megabytes, control characters and random JSON in every field. The parser never
/// throws, only refuses; it agrees with an independent reading of the body through <see cref="JsonDocument"/>; it
/// accepts every well-formed call notification and reads its fields exactly; and every run ends within a generous
/// bound (see <see cref="PropertyRuns"/>).
/// </summary>
public sealed class WebhookBodyPropertyTests
{
    private const string AccountSidField = "twi_account_sid";
    private const string CallSidField = "twi_call_sid";
    private const string MessageIdField = "twi_message_id";
    private const string MessageTypeField = "twi_message_type";
    private const string ToField = "twi_to";
    private const string FromField = "twi_from";

    private static readonly string[] RequiredFields = [AccountSidField, CallSidField, MessageIdField, MessageTypeField, ToField];
    private static readonly string[] RoutingFields = [.. RequiredFields, FromField];

    [Test]
    public Task NeverThrowsOnArbitraryBytesAndAgreesWithAJsonDocumentReading() =>
        CheckAsync(Prop.ForAll(Arb.From(ArbitraryBytes), (Sample sample) => AgreesWithReference(sample.Bytes)), 3000, "arbitrary bytes");

    [Test]
    public Task AcceptsEveryWellFormedCallNotificationAndReadsItsFieldsExactly() =>
        CheckAsync(
            Prop.ForAll(Arb.From(WellFormedBodies), (WellFormed body) =>
            {
                var parsed = WebhookBody.TryParse(body.Bytes, out var read, out var error);
                Expect(parsed, $"refused ({error?.Field}: {error?.Message})");
                Expect(Reads(read!, body.Fields), $"read {Describe(read!)}, expected {body.Fields}");
                AgreesWithReference(body.Bytes);
            }),
            600,
            "well-formed bodies");

    [Test]
    public Task AgreesWithAJsonDocumentReadingOnMutatedBodies() =>
        CheckAsync(Prop.ForAll(Arb.From(MutatedBodies), (Sample sample) => AgreesWithReference(sample.Bytes)), 2000, "mutated bodies");

    [Test]
    public Task RefusesAnyNonStringValueInARoutingFieldNamingTheField() =>
        CheckAsync(
            Prop.ForAll(Arb.From(NonStringRoutingField), (Sample sample) => RefusedNaming(sample, sample.Field!)),
            1000,
            "non-string routing fields");

    [Test]
    public Task RefusesARepeatedRoutingFieldNamingTheField() =>
        CheckAsync(
            Prop.ForAll(Arb.From(RepeatedRoutingField), (Sample sample) => RefusedNaming(sample, sample.Field!)),
            500,
            "repeated routing fields");

    [Test]
    public Task RefusesMalformedAccountSidsAndCalleesNamingTheField() =>
        CheckAsync(
            Prop.ForAll(Arb.From(MalformedAccountSidOrCallee), (Sample sample) => RefusedNaming(sample, sample.Field!)),
            1000,
            "malformed account SIDs and callees");

    [Test]
    public Task RefusesAControlCharacterInAStoredFieldNamingTheField() =>
        CheckAsync(
            Prop.ForAll(Arb.From(ControlCharacterInAStoredField), (Sample sample) => RefusedNaming(sample, sample.Field!)),
            1000,
            "control characters in stored fields");

    [Test]
    public Task RefusesDeepNestingWithoutThrowing() =>
        CheckAsync(
            Prop.ForAll(Arb.From(DeeplyNested), (Sample sample) =>
            {
                var parsed = WebhookBody.TryParse(sample.Bytes, out _, out var error);
                Expect(!parsed, "accepted nesting deeper than " + WebhookBody.MaxDepth);

                // A routing field holding a container is refused for its type at its first token, before the depth is reached.
                Expect(error!.Field == sample.Field, $"refused naming '{error.Field}', expected '{sample.Field}'");
            }),
            200,
            "deep nesting");

    [Test]
    public Task HandlesStringsOfMegabytes() =>
        CheckAsync(
            Prop.ForAll(Arb.From(HugeStrings), (Sample sample) =>
            {
                var parsed = WebhookBody.TryParse(sample.Bytes, out _, out var error);
                Expect(parsed == (sample.Field is null), parsed ? "accepted" : $"refused naming '{error!.Field}'");
                Expect(parsed || error!.Field == sample.Field, $"refused naming '{error?.Field}', expected '{sample.Field}'");
                AgreesWithReference(sample.Bytes);
            }),
            40,
            "strings of megabytes");

    [Test]
    public Task RefusesARawControlCharacterInAnyString() =>
        CheckAsync(Prop.ForAll(Arb.From(RawControlCharacterInAString), (Sample sample) => RefusedNaming(sample, "body")), 1000, "raw control characters");

    [Test]
    public Task RefusesInvalidUtf8Anywhere() =>
        CheckAsync(
            Prop.ForAll(Arb.From(InvalidUtf8), (Sample sample) =>
            {
                Expect(!Utf8.IsValid(sample.Bytes), "the generator should have made invalid UTF-8");
                RefusedNaming(sample, "body");
            }),
            1000,
            "invalid UTF-8");

    // ---------------------------------------------------------------- checks

    private static void RefusedNaming(Sample sample, string field)
    {
        var parsed = WebhookBody.TryParse(sample.Bytes, out var body, out var error);
        Expect(!parsed && body is null, "accepted");
        Expect(error!.Field == field, $"refused naming '{error.Field}' ({error.Message}), expected '{field}'");
    }

    /// <summary>
    /// The parser and a plain <see cref="JsonDocument"/> reading of the rules of SPEC §3 accept exactly the same
    /// bodies and read the same fields. On well-formed JSON they also name the same field; on malformed JSON the parser
    /// may name a field it had already found at fault before reaching the malformation.
    /// </summary>
    private static void AgreesWithReference(byte[] json)
    {
        var parsed = WebhookBody.TryParse(json, out var body, out var error);
        Expect(parsed == (error is null) && parsed == (body is not null), "TryParse returns true exactly when it gives a body and no error");
        var reference = Reference.Read(json);
        Expect(
            parsed == (reference.Field is null),
            $"the parser {(parsed ? "accepted" : $"refused naming '{error!.Field}'")}, the reference {(reference.Field is null ? "accepts" : $"refuses naming '{reference.Field}'")}");
        if (parsed)
        {
            Expect(Reads(body!, reference.Fields!), $"the parser read {Describe(body!)}, the reference {reference.Fields}");
        }
        else if (reference.WellFormedJson)
        {
            Expect(error!.Field == reference.Field, $"the parser named '{error.Field}', the reference '{reference.Field}'");
        }
    }

    private static bool Reads(WebhookBody body, Fields fields) =>
        body.AccountSid.Value == fields.AccountSid
        && body.CallSid == fields.CallSid
        && body.MessageId == fields.MessageId
        && body.MessageType == fields.MessageType
        && body.To == fields.To
        && body.Identity.Value == fields.To[ClientIdentity.ClientPrefix.Length..]
        && body.From == fields.From;

    private static string Describe(WebhookBody body) =>
        new Fields(body.AccountSid.Value, body.CallSid, body.MessageId, body.MessageType, body.To, body.From).ToString();

    /// <summary>The routing fields of a body, as the parser should read them.</summary>
    private sealed record Fields(string AccountSid, string CallSid, string MessageId, string MessageType, string To, string? From)
    {
        public override string ToString() =>
            $"{{{AccountSid}, {Sample.Show(CallSid)}, {Sample.Show(MessageId)}, {Sample.Show(MessageType)}, {Sample.Show(To)}, {(From is null ? "no from" : Sample.Show(From))}}}";
    }

    /// <summary>A well-formed call notification and the fields it carries.</summary>
    private sealed record WellFormed(byte[] Bytes, Fields Fields)
    {
        public override string ToString() => Sample.Show(Bytes);
    }

    /// <summary>A generated body, how it was made, and the field it should be refused for, if any; printed shortened.</summary>
    private sealed record Sample(byte[] Bytes, string How, string? Field = null)
    {
        public override string ToString() => $"{How} ({Bytes.Length} bytes): {Show(Bytes)}";

        public static string Show(byte[] bytes)
        {
            const int shown = 300;
            var text = new StringBuilder();
            foreach (var b in bytes.AsSpan(0, Math.Min(bytes.Length, shown)))
            {
                text.Append(b is >= 0x20 and < 0x7f ? ((char)b).ToString() : $"\\x{b:x2}");
            }

            return bytes.Length > shown ? text + "…" : text.ToString();
        }

        public static string Show(string value) => Show(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(value)));
    }

    /// <summary>SPEC §3's shape rules, read through <see cref="JsonDocument"/>: independent of the parser's reader loop.</summary>
    private static class Reference
    {
        public sealed record Reading(string? Field, Fields? Fields, bool WellFormedJson);

        public static Reading Read(byte[] json)
        {
            if (!Utf8.IsValid(json))
            {
                return new Reading("body", null, false);
            }

            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = WebhookBody.MaxDepth });
            }
            catch (JsonException)
            {
                return new Reading("body", null, false);
            }

            using (document)
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return new Reading("body", null, true);
                }

                var values = new Dictionary<string, string>();
                try
                {
                    foreach (var property in document.RootElement.EnumerateObject())
                    {
                        var name = property.Name;
                        if (!RoutingFields.Contains(name))
                        {
                            continue;
                        }

                        if (values.ContainsKey(name) || property.Value.ValueKind != JsonValueKind.String)
                        {
                            return new Reading(name, null, true);
                        }

                        values[name] = property.Value.GetString()!;
                    }
                }
                catch (InvalidOperationException)
                {
                    // An escape that is no valid UTF-16 (a lone surrogate) in a name or a routing value.
                    return new Reading("body", null, true);
                }

                foreach (var field in new[] { AccountSidField, CallSidField, MessageIdField, ToField, MessageTypeField })
                {
                    var max = field == ToField ? ClientIdentity.ClientPrefix.Length + ClientIdentity.MaxLength : 256;
                    if (!values.TryGetValue(field, out var value) || value.Length == 0 || value.Length > max || value.Any(char.IsControl))
                    {
                        return new Reading(field, null, true);
                    }
                }

                if (values.TryGetValue(FromField, out var from) && from.Any(char.IsControl))
                {
                    return new Reading(FromField, null, true);
                }

                if (!IsAccountSid(values[AccountSidField]))
                {
                    return new Reading(AccountSidField, null, true);
                }

                var to = values[ToField];
                if (!to.StartsWith("client:", StringComparison.Ordinal) || !IsIdentity(to["client:".Length..]))
                {
                    return new Reading(ToField, null, true);
                }

                return new Reading(
                    null,
                    new Fields(values[AccountSidField], values[CallSidField], values[MessageIdField], values[MessageTypeField], to, values.GetValueOrDefault(FromField)),
                    true);
            }
        }

        private static bool IsAccountSid(string value) =>
            value.Length == 34 && value.StartsWith("AC", StringComparison.Ordinal) && value[2..].All(Uri.IsHexDigit);

        private static bool IsIdentity(string value) =>
            value.Length is >= 1 and <= 256 && !value.Any(char.IsControl);
    }

    // ---------------------------------------------------------------- generators

    private static readonly string[] ControlCharacters = ["\0", "\u0001", "\b", "\t", "\n", "\f", "\r", "\u001b", "\u001f", "\u007f", "\u0085", "\u009f"];

    /// <summary>One UTF-16 unit or surrogate pair: never a lone surrogate, so every generated string is valid Unicode.</summary>
    private static Gen<string> Unit(bool controls)
    {
        var units = new List<(int, Gen<string>)>
        {
            (12, Gen.Elements("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:+@".Select(c => c.ToString()))),
            (3, Gen.Elements("\"", "\\", "/", " ", "'", "{", "}", "[", "]", ",", ":", "&", "=", "%", "<", ">")),
            (2, Gen.Elements("é", "ß", "中", "Ω", "\u00a0", "\u2028", "\u2029", "\ufeff", "\ufffd", "\u0301")),
            (1, Gen.Elements("😀", "𝄞", "\U0010ffff")),
        };
        if (controls)
        {
            units.Add((2, Gen.Elements(ControlCharacters)));
        }

        return Gen.Frequency(units);
    }

    /// <summary>Text of <paramref name="min"/> to <paramref name="max"/> UTF-16 units, mostly short, sometimes the longest allowed.</summary>
    private static Gen<string> Text(int min, int max, bool controls) =>
        Gen.Frequency(
                (6, Gen.Choose(min, Math.Min(max, 24))),
                (1, Gen.Choose(min, max)),
                (1, Gen.Constant(max)))
            .SelectMany(length => Gen.ArrayOf(Unit(controls), length).Select(units => Fit(string.Concat(units), min, max)));

    /// <summary>Cuts <paramref name="text"/> to at most <paramref name="max"/> units without splitting a surrogate pair.</summary>
    private static string Fit(string text, int min, int max)
    {
        if (text.Length > max)
        {
            text = text[..(char.IsHighSurrogate(text[max - 1]) ? max - 1 : max)];
        }

        return text.Length < min ? text + new string('x', min - text.Length) : text;
    }

    /// <summary>A JSON string literal for <paramref name="value"/>, each character written raw or escaped at random.</summary>
    private static Gen<string> Literal(string value)
    {
        var pieces = new List<Gen<string>>(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                var pair = value.Substring(i, 2);
                pieces.Add(Gen.Frequency((4, Gen.Constant(pair)), (1, Gen.Constant(Escape(pair[0]) + Escape(pair[1])))));
                i++;
                continue;
            }

            pieces.Add(c switch
            {
                '"' => Gen.Elements("\\\"", "\\u0022"),
                '\\' => Gen.Elements("\\\\", "\\u005c", "\\u005C"),
                '/' => Gen.Elements("/", "\\/", "\\u002f"),
                '\b' => Gen.Elements("\\b", "\\u0008"),
                '\f' => Gen.Elements("\\f", "\\u000c"),
                '\n' => Gen.Elements("\\n", "\\u000a", "\\u000A"),
                '\r' => Gen.Elements("\\r", "\\u000d"),
                '\t' => Gen.Elements("\\t", "\\u0009"),
                < ' ' => Gen.Elements(Escape(c), Escape(c).ToUpperInvariant().Replace("\\U", "\\u", StringComparison.Ordinal)),
                _ => Gen.Frequency((8, Gen.Constant(c.ToString())), (1, Gen.Constant(Escape(c)))),
            });
        }

        return Gen.CollectToArray(pieces).Select(p => "\"" + string.Concat(p) + "\"");
    }

    private static string Escape(char c) => $"\\u{(int)c:x4}";

    private static readonly Gen<string> Whitespace =
        Gen.Frequency((6, Gen.Constant(string.Empty)), (1, Gen.Elements(" ", "\n", "\t", "\r\n", " \t\n ")));

    private static readonly Gen<string> Scalars = Gen.Frequency(
        (3, Gen.Elements("null", "true", "false", "0", "-0", "1", "-12.5e3", "1E+308", "1e-400", "123456789012345678901234567890", "0.000001", "-1.0E-2")),
        (2, Text(0, 40, controls: true).SelectMany(Literal)));

    /// <summary>Keys of nested objects: routing field names too, which must not count when nested.</summary>
    private static readonly Gen<string> NestedKeys = Gen.Frequency((3, Text(0, 12, controls: true)), (1, Gen.Elements(RoutingFields)));

    /// <summary>JSON values with at most N levels of containers, N = index; built bottom-up so no generator is built twice.</summary>
    private static readonly Gen<string>[] ValuesOfDepth = BuildValuesOfDepth(WebhookBody.MaxDepth - 1);

    private static Gen<string>[] BuildValuesOfDepth(int deepest)
    {
        var values = new Gen<string>[deepest + 1];
        values[0] = Scalars;
        for (var depth = 1; depth <= deepest; depth++)
        {
            var inner = values[depth - 1];
            var array = Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(inner, n))
                .SelectMany(items => Whitespace.Select(ws => "[" + ws + string.Join("," + ws, items) + "]"));
            var member = from key in NestedKeys from literal in Literal(key) from value in inner select literal + ":" + value;
            var obj = Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(member, n))
                .SelectMany(members => Whitespace.Select(ws => "{" + ws + string.Join("," + ws, members) + "}"));
            values[depth] = Gen.Frequency((4, Scalars), (1, array), (1, obj));
        }

        return values;
    }

    /// <summary>A value nested exactly as deep as the body allows (or less): <c>[{"k":[…]}]</c> around a scalar.</summary>
    private static readonly Gen<string> DeepChains =
        from depth in Gen.Choose(1, WebhookBody.MaxDepth - 1)
        from openers in Gen.ArrayOf(Gen.Elements("[", "{\"k\":", "{\"twi_to\":"), depth)
        from scalar in Scalars
        select string.Concat(openers) + scalar + string.Concat(openers.Reverse().Select(o => o == "[" ? "]" : "}"));

    private static readonly Gen<string> ExtraValues = Gen.Frequency((5, ValuesOfDepth[^1]), (1, DeepChains));

    /// <summary>Names of extra fields: anything but a routing field's, including near misses of them.</summary>
    private static readonly Gen<string> ExtraKeys = Gen.Frequency(
            (4, Text(0, 20, controls: true)),
            (2, Gen.Elements("twi_bridge_token", "twi_params", "twi_answer_timeout", "TWI_TO", "twi_To", "twi_to ", " twi_to", "twi_to\0", "twi_", "twi_account_sid2", string.Empty)))
        .Where(key => !RoutingFields.Contains(key));

    private static Gen<string> Member(string name, Gen<string> value) =>
        from key in Literal(name)
        from before in Whitespace
        from after in Whitespace
        from literal in value
        select key + before + ":" + after + literal;

    private static Gen<string> Member(string name, string value) => Member(name, Literal(value));

    private static readonly Gen<string[]> ExtraMembers =
        Gen.Choose(0, 5).SelectMany(n => Gen.ArrayOf(from key in ExtraKeys from member in Member(key, ExtraValues) select member, n));

    /// <summary>An object of the given members in random order, with random whitespace around every token.</summary>
    private static Gen<byte[]> Object(IEnumerable<string> members) =>
        from order in Gen.Shuffle(members.ToArray())
        from separators in Gen.ArrayOf(Whitespace, order.Length * 2 + 2)
        select Encoding.UTF8.GetBytes(
            separators[0] + "{" + string.Concat(order.Select((m, i) => (i == 0 ? string.Empty : ",") + separators[2 * i + 1] + m + separators[2 * i + 2])) + "}" + separators[^1]);

    private static readonly Gen<string> AccountSids =
        Gen.ArrayOf(Gen.Elements("0123456789abcdefABCDEF".ToCharArray()), 32).Select(hex => "AC" + new string(hex));

    private static readonly Gen<Fields> ValidFields =
        from accountSid in AccountSids
        from callSid in Text(1, 256, controls: false)
        from messageId in Text(1, 256, controls: false)
        from messageType in Gen.Frequency((3, Gen.Constant("twilio.voice.call")), (1, Text(1, 256, controls: false)))
        from identity in Text(1, ClientIdentity.MaxLength, controls: false)
        from caller in Gen.Frequency((1, Gen.Constant<string?>(null)), (4, Text(0, 300, controls: false).Select(s => (string?)s)))
        select new Fields(accountSid, callSid, messageId, messageType, "client:" + identity, caller);

    /// <summary>The members carrying <paramref name="fields"/> (twi_from only when present), each encoded at random.</summary>
    private static Gen<string[]> RoutingMembers(Fields fields)
    {
        var members = new List<Gen<string>>
        {
            Member(AccountSidField, fields.AccountSid),
            Member(CallSidField, fields.CallSid),
            Member(MessageIdField, fields.MessageId),
            Member(MessageTypeField, fields.MessageType),
            Member(ToField, fields.To),
        };
        if (fields.From is not null)
        {
            members.Add(Member(FromField, fields.From));
        }

        return Gen.CollectToArray(members);
    }

    private static readonly Gen<WellFormed> WellFormedBodies =
        from fields in ValidFields
        from routing in RoutingMembers(fields)
        from extras in ExtraMembers
        from bytes in Object(routing.Concat(extras))
        select new WellFormed(bytes, fields);

    private static readonly Gen<byte> AnyByte = Gen.Choose(0, 255).Select(b => (byte)b);

    private static readonly Gen<byte> JsonishByte = Gen.Elements(Encoding.UTF8.GetBytes("{}[]\":,\\ \n\tutrnfalse0123456789.-+eE/\u00e9").Concat(new byte[] { 0x00, 0x1f, 0x80, 0xc3, 0xff }).ToArray());

    private static readonly Gen<Sample> ArbitraryBytes = Gen.Frequency(
        (3, Gen.Sized(size => Gen.Choose(0, size * 8)).SelectMany(n => Gen.ArrayOf(AnyByte, n)).Select(b => new Sample(b, "random bytes"))),
        (3, Gen.Sized(size => Gen.Choose(0, size * 8)).SelectMany(n => Gen.ArrayOf(JsonishByte, n)).Select(b => new Sample(b, "JSON-ish bytes"))),
        (1, Gen.Sized(size => Gen.Choose(0, size * 4)).SelectMany(n => Gen.ArrayOf(JsonishByte, n)).Select(b => new Sample([(byte)'{', .. b], "an object's start and JSON-ish bytes"))));

    /// <summary>Fragments that are most likely to confuse a JSON reader, inserted whole.</summary>
    private static readonly byte[][] Fragments =
    [
        .. new[]
        {
            "{", "}", "[", "]", "\"", ",", ":", "\\", "\\u", "\\ud800", "\\udc00", "\"\\ud83d\"", "\\u00", "\\x41", "null", "1e99999", "-", "00", "/*",
            "\"twi_to\":\"client:mallory\",", "\"twi_to\":1,", ",\"twi_message_id\":\"WB2\"", "\"twi_account_sid\":{},", "}{", "][",
        }.Select(Encoding.UTF8.GetBytes),
        [0xef, 0xbb, 0xbf], [0x00], [0x1f], [0x7f], [0x80], [0xc0, 0xaf], [0xc3], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xff], [0xfe, 0xff],
    ];

    private static readonly Gen<Func<byte[], (byte[], string)>> Mutations = Gen.OneOf(
        from at in Gen.Choose(0, 10_000)
        from b in AnyByte
        select (Func<byte[], (byte[], string)>)(body => body.Length == 0 ? (body, "nothing") : Replace(body, Position(at, body.Length - 1), b)),
        from at in Gen.Choose(0, 10_000)
        from fragment in Gen.Elements(Fragments)
        select (Func<byte[], (byte[], string)>)(body => Insert(body, Position(at, body.Length), fragment)),
        from at in Gen.Choose(0, 10_000)
        from count in Gen.Choose(1, 8)
        select (Func<byte[], (byte[], string)>)(body => Delete(body, Position(at, body.Length), count)),
        from at in Gen.Choose(0, 10_000)
        select (Func<byte[], (byte[], string)>)(body => (body[..Position(at, body.Length)], $"cut at {Position(at, body.Length)}")),
        from source in Gen.Choose(0, 10_000)
        from length in Gen.Choose(1, 40)
        from target in Gen.Choose(0, 10_000)
        select (Func<byte[], (byte[], string)>)(body => Copy(body, Position(source, body.Length), length, Position(target, body.Length))));

    private static int Position(int perTenThousand, int length) => (int)((long)perTenThousand * length / 10_000);

    private static (byte[], string) Replace(byte[] body, int at, byte value)
    {
        var copy = (byte[])body.Clone();
        copy[at] = value;
        return (copy, $"byte {at} := 0x{value:x2}");
    }

    private static (byte[], string) Insert(byte[] body, int at, byte[] fragment) =>
        ([.. body[..at], .. fragment, .. body[at..]], $"inserted {Sample.Show(fragment)} at {at}");

    private static (byte[], string) Delete(byte[] body, int at, int count)
    {
        count = Math.Min(count, body.Length - at);
        return ([.. body[..at], .. body[(at + count)..]], $"deleted {count} at {at}");
    }

    private static (byte[], string) Copy(byte[] body, int from, int length, int to)
    {
        length = Math.Min(length, body.Length - from);
        return Insert(body, to, body[from..(from + length)]) with { Item2 = $"copied {length} from {from} to {to}" };
    }

    private static readonly Gen<Sample> MutatedBodies =
        from body in WellFormedBodies
        from mutations in Gen.Choose(1, 3).SelectMany(n => Gen.ArrayOf(Mutations, n))
        select mutations.Aggregate(
            new Sample(body.Bytes, "a well-formed body"),
            (sample, mutate) =>
            {
                var (bytes, how) = mutate(sample.Bytes);
                return new Sample(bytes, sample.How + "; " + how);
            });

    private static readonly Gen<string> NonStringValues = Gen.OneOf(
        Gen.Elements("null", "true", "false", "0", "-1.5e3", "[]", "{}", "[\"client:bob\"]", "{\"twi_to\":\"client:bob\"}"),
        Gen.OneOf(ValuesOfDepth[1..]).Where(value => !value.StartsWith('"')));

    /// <summary>A valid body whose one routing field holds something other than a string.</summary>
    private static readonly Gen<Sample> NonStringRoutingField =
        from fields in ValidFields
        from field in Gen.Elements(RoutingFields)
        from value in NonStringValues
        from routing in RoutingMembers(fields with { From = fields.From ?? "client:alice" })
        from replacement in Member(field, Gen.Constant(value))
        from extras in ExtraMembers
        from bytes in Object(routing.Where(m => !IsMemberOf(m, field)).Append(replacement).Concat(extras))
        select new Sample(bytes, $"'{field}' is {value}", field);

    /// <summary>A valid body carrying one routing field twice (the same value or another, a string or not).</summary>
    private static readonly Gen<Sample> RepeatedRoutingField =
        from fields in ValidFields
        from field in Gen.Elements(RoutingFields)
        from value in Gen.Frequency((1, Literal(ValueOf(fields, field) ?? "client:alice")), (1, Text(0, 30, controls: true).SelectMany(Literal)), (1, NonStringValues))
        from routing in RoutingMembers(fields)
        from repeat in Member(field, Gen.Constant(value))
        from extras in ExtraMembers
        from bytes in Object(routing.Append(repeat).Concat(extras))
        let repeated = fields.From is null && field == FromField ? null : field
        where repeated is not null
        select new Sample(bytes, $"'{field}' again as {value}", repeated);

    private static string? ValueOf(Fields fields, string field) => field switch
    {
        AccountSidField => fields.AccountSid,
        CallSidField => fields.CallSid,
        MessageIdField => fields.MessageId,
        MessageTypeField => fields.MessageType,
        ToField => fields.To,
        _ => fields.From,
    };

    /// <summary>Whether an encoded member is the one named <paramref name="field"/> (its key may be escaped).</summary>
    private static bool IsMemberOf(string member, string field)
    {
        using var document = JsonDocument.Parse("{" + member + "}");
        return document.RootElement.EnumerateObject().First().Name == field;
    }

    private static readonly Gen<string> MalformedAccountSids = Gen.OneOf(
        AccountSids.Select(sid => sid[..33]),
        AccountSids.Select(sid => sid + "0"),
        AccountSids.Select(sid => "ac" + sid[2..]),
        AccountSids.Select(sid => "CA" + sid[2..]),
        AccountSids.Select(sid => " " + sid),
        AccountSids.Select(sid => sid[..33] + "\n"),
        from sid in AccountSids
        from at in Gen.Choose(2, 33)
        from bad in Gen.Elements('g', 'z', 'G', ' ', 'é', '\0', '-', 'x', '٣')
        select sid[..at] + bad + sid[(at + 1)..]);

    private static readonly Gen<string> Identities = Text(1, ClientIdentity.MaxLength, controls: false);

    private static readonly Gen<string> MalformedCallees = Gen.OneOf(
        from prefix in Gen.Elements(string.Empty, "Client:", "CLIENT:", "client", "client;", " client:", "sip:", "+1555", "client\u0000:")
        from identity in Identities
        where !(prefix + identity).StartsWith(ClientIdentity.ClientPrefix, StringComparison.Ordinal) // "client" + ":x" is no near miss
        select prefix + identity,
        Gen.Constant("client:"),
        from identity in Identities
        from at in Gen.Choose(0, 10_000)
        from control in Gen.Elements(ControlCharacters)
        select "client:" + InsertBetweenCharacters(identity, Position(at, identity.Length), control),
        from extra in Gen.Choose(1, 300)
        from unit in Unit(controls: false)
        select "client:" + string.Concat(Enumerable.Repeat(unit, ClientIdentity.MaxLength + extra)));

    /// <summary>Inserts <paramref name="value"/> at <paramref name="at"/>, or just before if that would split a surrogate pair.</summary>
    private static string InsertBetweenCharacters(string text, int at, string value) =>
        text.Insert(at > 0 && at < text.Length && char.IsLowSurrogate(text[at]) ? at - 1 : at, value);

    /// <summary>A valid body but for its Account SID or its callee.</summary>
    private static readonly Gen<Sample> MalformedAccountSidOrCallee =
        from fields in ValidFields
        from bad in Gen.OneOf(
            MalformedAccountSids.Select(sid => (Field: AccountSidField, Fields: fields with { AccountSid = sid })),
            MalformedCallees.Select(to => (Field: ToField, Fields: fields with { To = to })))
        from routing in RoutingMembers(bad.Fields)
        from extras in ExtraMembers
        from bytes in Object(routing.Concat(extras))
        select new Sample(bytes, $"'{bad.Field}' is {JsonSerializer.Serialize(bad.Field == ToField ? bad.Fields.To : bad.Fields.AccountSid)}", bad.Field);

    /// <summary>A valid body but for a control character (raw in the text, so escaped in the JSON) in a field that is stored.</summary>
    private static readonly Gen<Sample> ControlCharacterInAStoredField =
        from fields in ValidFields
        from field in Gen.Elements(CallSidField, MessageIdField, MessageTypeField, FromField)
        from control in Gen.Elements(ControlCharacters)
        from at in Gen.Choose(0, 10_000)
        let value = Fit(ValueOf(fields, field) ?? "client:alice", 1, 255)
        let bad = InsertBetweenCharacters(value, Position(at, value.Length), control)
        let changed = field switch
        {
            CallSidField => fields with { CallSid = bad },
            MessageIdField => fields with { MessageId = bad },
            MessageTypeField => fields with { MessageType = bad },
            _ => fields with { From = bad },
        }
        from routing in RoutingMembers(changed)
        from extras in ExtraMembers
        from bytes in Object(routing.Concat(extras))
        select new Sample(bytes, $"'{field}' is {JsonSerializer.Serialize(bad)}", field);

    /// <summary>
    /// Nesting from just past the limit to 100,000 levels, of arrays, objects or both, closed or not, as the whole body,
    /// in an extra field, or in a routing field.
    /// </summary>
    private static readonly Gen<Sample> DeeplyNested =
        from depth in Gen.Frequency(
            (3, Gen.Choose(WebhookBody.MaxDepth + 1, 100)),
            (2, Gen.Choose(100, 20_000)),
            (1, Gen.Elements(10_000, 100_000)))
        from pattern in Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(Gen.Elements("[", "{\"a\":", "{\"twi_to\":", "[1,"), n))
        from closed in Gen.Elements(true, false)
        from placement in Gen.Elements("the body", "an extra field", AccountSidField, ToField, FromField)
        from fields in ValidFields
        from routing in RoutingMembers(fields with { From = fields.From ?? "client:alice" })
        select Nested(depth, pattern, closed, placement, routing);

    private static Sample Nested(int depth, string[] pattern, bool closed, string placement, string[] routing)
    {
        var value = new StringBuilder();
        for (var i = 0; i < depth; i++)
        {
            value.Append(pattern[i % pattern.Length]);
        }

        value.Append("null");
        if (closed)
        {
            for (var i = depth - 1; i >= 0; i--)
            {
                value.Append(pattern[i % pattern.Length][0] == '[' ? ']' : '}');
            }
        }

        var how = $"{depth} levels of {string.Concat(pattern)}{(closed ? string.Empty : ", unclosed,")} as {placement}";
        if (placement == "the body")
        {
            // An object whose first member is twi_to is refused for that member's type before the depth is reached.
            return new Sample(Encoding.UTF8.GetBytes(value.ToString()), how, pattern[0] == "{\"twi_to\":" ? ToField : "body");
        }

        var members = placement == "an extra field"
            ? routing.Append("\"deep\":" + value)
            : routing.Where(m => !IsMemberOf(m, placement)).Append(Quote(placement) + ":" + value);
        return new Sample(
            Encoding.UTF8.GetBytes("{" + string.Join(",", members) + "}"),
            how,
            placement == "an extra field" ? "body" : placement);
    }

    private static string Quote(string value) => JsonSerializer.Serialize(value);

    /// <summary>Strings of 64 KiB to 8 MiB as a value, a key or a routing field; raw, escaped or multi-byte; terminated or not.</summary>
    private static readonly Gen<Sample> HugeStrings =
        from size in Gen.Frequency((3, Gen.Choose(64 * 1024, 1024 * 1024)), (1, Gen.Choose(1024 * 1024, 8 * 1024 * 1024)))
        from content in Gen.Elements("ascii", "escapes", "multi-byte", "raw control characters")
        from placement in Gen.Elements("an extra value", "an extra key", CallSidField, MessageIdField, ToField, FromField)
        from terminated in Gen.Frequency((4, Gen.Constant(true)), (1, Gen.Constant(false)))
        from fields in ValidFields
        from routing in RoutingMembers(fields with { From = fields.From ?? "client:alice" })
        select Huge(size, content, placement, terminated, routing);

    private static Sample Huge(int size, string content, string placement, bool terminated, string[] routing)
    {
        var unit = content switch
        {
            "ascii" => "abcdefgh",
            "escapes" => "\\u0041\\n\\\"\\\\",
            "multi-byte" => "é中😀",
            _ => "a\u0001b\u001f",
        };
        var text = new StringBuilder(size + 16);
        if (placement == ToField)
        {
            text.Append("client:");
        }

        while (text.Length < size)
        {
            text.Append(unit);
        }

        var literal = "\"" + text + (terminated ? "\"" : string.Empty);
        var members = placement switch
        {
            "an extra value" => routing.Append("\"huge\":" + literal),
            "an extra key" => routing.Append(literal + ":1"),
            _ => routing.Where(m => !IsMemberOf(m, placement)).Append(Quote(placement) + ":" + literal),
        };
        var tail = terminated ? "}" : string.Empty;
        var json = "{" + string.Join(",", members) + tail;

        // Refused: raw control characters or an unterminated string (malformed JSON), and a routing field over its length;
        // twi_from has no length limit of its own (the stored copy is cut), so a huge one is accepted unless it holds a
        // control character (the escapes include \n).
        string? field = !terminated || content == "raw control characters" ? "body"
            : placement is CallSidField or MessageIdField or ToField ? placement
            : placement == FromField && content == "escapes" ? FromField
            : null;
        return new Sample(Encoding.UTF8.GetBytes(json), $"{size} bytes of {content} as {placement}{(terminated ? string.Empty : ", unterminated")}", field);
    }

    /// <summary>A well-formed body with one raw byte 0x00–0x1F inserted inside one of its strings (keys included).</summary>
    private static readonly Gen<Sample> RawControlCharacterInAString =
        from body in WellFormedBodies
        from at in Gen.Choose(0, 10_000)
        from control in Gen.Choose(0, 0x1f)
        let inside = StringInteriors(body.Bytes)
        let position = inside[Position(at, inside.Count - 1)]
        select new Sample(Insert(body.Bytes, position, [(byte)control]).Item1, $"raw 0x{control:x2} inserted at {position}");

    /// <summary>Positions at which an inserted byte lands inside a string literal (between its quotes).</summary>
    private static List<int> StringInteriors(byte[] json)
    {
        var positions = new List<int>();
        var inString = false;
        var escaped = false;
        for (var i = 0; i < json.Length; i++)
        {
            if (inString)
            {
                positions.Add(i);
                if (escaped)
                {
                    escaped = false;
                }
                else if (json[i] == '\\')
                {
                    escaped = true;
                }
                else if (json[i] == '"')
                {
                    inString = false;
                }
            }
            else if (json[i] == '"')
            {
                inString = true;
            }
        }

        return positions;
    }

    private static readonly byte[][] InvalidSequences =
    [
        [0x80], [0xbf], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80],
        [0xf5], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xfe], [0xff], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc3, 0x28],
    ];

    /// <summary>A well-formed body with an invalid UTF-8 sequence anywhere in it (in a string, a key, or between tokens).</summary>
    private static readonly Gen<Sample> InvalidUtf8 =
        from body in WellFormedBodies
        from at in Gen.Choose(0, 10_000)
        from sequence in Gen.Elements(InvalidSequences)
        select new Sample(Insert(body.Bytes, Position(at, body.Bytes.Length), sequence).Item1, $"{Sample.Show(sequence)} inserted");
}
