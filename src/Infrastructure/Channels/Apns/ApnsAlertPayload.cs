using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace CallNotify.Infrastructure.Channels.Apns;

/// <summary>
/// The APNs alert payload: every top-level field of the webhook body, copied as raw JSON (names and values byte for
/// byte, never re-serialised), followed by an <c>aps</c> alert naming the caller. A body's own <c>aps</c> is dropped:
/// the alert is what makes iOS show the call, so ours wins (Twilio's VoIP pushes carry an empty one).
/// </summary>
internal static class ApnsAlertPayload
{
    public const string Title = "Incoming call";

    private const string ClientPrefix = "client:";

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Keeps a caller's non-ASCII name as UTF-8 rather than \uXXXX escapes: the payload limit is in bytes.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Builds the payload, or returns <see langword="null"/> when the body is not a JSON object.</summary>
    public static byte[]? Build(ReadOnlySpan<byte> body)
    {
        try
        {
            return BuildCore(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The caller shown in the alert: <c>twi_from</c> without its <c>client:</c> prefix.</summary>
    internal static string? Caller(string? from) =>
        string.IsNullOrEmpty(from) ? null
        : from.StartsWith(ClientPrefix, StringComparison.Ordinal) ? from[ClientPrefix.Length..]
        : from;

    private static byte[]? BuildCore(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        var output = new ArrayBufferWriter<byte>(body.Length + 128);
        output.Write("{"u8);
        string? from = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var start = checked((int)reader.TokenStartIndex);
            var isAps = reader.ValueTextEquals("aps"u8);
            var isFrom = reader.ValueTextEquals("twi_from"u8);
            reader.Read();
            if (isFrom)
            {
                from = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }

            reader.Skip();
            if (!isAps)
            {
                if (output.WrittenCount > 1)
                {
                    output.Write(","u8);
                }

                output.Write(body[start..checked((int)reader.BytesConsumed)]);
            }
        }

        // Anything after the closing brace other than whitespace makes the reader throw.
        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
        {
            return null;
        }

        output.Write(output.WrittenCount > 1 ? ",\"aps\":"u8 : "\"aps\":"u8);
        using (var json = new Utf8JsonWriter(output, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteStartObject("alert");
            json.WriteString("title", Title);
            if (Caller(from) is { } caller)
            {
                json.WriteString("body", caller);
            }

            json.WriteEndObject();
            json.WriteString("sound", "default");
            json.WriteEndObject();
        }

        output.Write("}"u8);
        return output.WrittenSpan.ToArray();
    }
}
