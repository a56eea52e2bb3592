using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using CallNotify.Application.Calls.ReceiveCallNotification;

namespace CallNotify.Infrastructure.Channels.Fcm;

/// <summary>
/// Writes the FCM HTTP v1 request for one call notification:
/// <c>{"message":{"token":…,"data":{…},"android":{"priority":"HIGH","ttl":"Ns"}}}</c>.
/// </summary>
/// <remarks>
/// Every top-level field of the webhook body becomes one <c>data</c> entry. A string value is copied as the JSON
/// literal Twilio wrote (escapes and all), so it decodes to exactly Twilio's string; an unescaped one is copied as its
/// UTF-8 bytes. Any other value (number, boolean, null, object, array) becomes a string holding its raw JSON text.
/// Nothing is parsed into a DOM or re-serialised.
/// </remarks>
internal static class FcmMessage
{
    /// <summary>FCM's limit on a message's data: the UTF-8 bytes of its keys and values.</summary>
    public const int MaxDataBytes = 4096;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // The request is JSON for FCM, never HTML: escaping only what JSON requires keeps it small.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    /// <summary>Builds the request body; <see cref="Result.Body"/> is null when the payload is not a JSON object.</summary>
    public static Result Write(ReadOnlySpan<byte> payload, string registrationToken, int ttlSeconds)
    {
        var buffer = new ArrayBufferWriter<byte>(payload.Length + registrationToken.Length + 128);
        long dataBytes = 0;
        try
        {
            using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
            {
                writer.WriteStartObject();
                writer.WriteStartObject("message");
                writer.WriteString("token", registrationToken);
                writer.WriteStartObject("data");
                if (!WriteData(payload, writer, ref dataBytes))
                {
                    return new Result(null, dataBytes);
                }

                writer.WriteEndObject();
                writer.WriteStartObject("android");
                writer.WriteString("priority", "HIGH");
                writer.WriteString("ttl", $"{ttlSeconds}s");
                writer.WriteEndObject();
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            return new Result(buffer.WrittenMemory, dataBytes);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            // Malformed JSON or invalid UTF-8/UTF-16 in a key: the webhook check lets through only well-formed objects,
            // so this is a body no client could read either.
            return new Result(null, dataBytes);
        }
    }

    private static bool WriteData(ReadOnlySpan<byte> payload, Utf8JsonWriter writer, ref long dataBytes)
    {
        var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = WebhookBody.MaxDepth });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = reader.GetString()!;
            dataBytes += Encoding.UTF8.GetByteCount(key);
            reader.Read();
            var start = checked((int)reader.TokenStartIndex);
            switch (reader.TokenType)
            {
                case JsonTokenType.String when !reader.ValueIsEscaped:
                    writer.WriteString(key, reader.ValueSpan);
                    dataBytes += reader.ValueSpan.Length;
                    break;
                case JsonTokenType.String:
                    // Twilio's own literal, quotes included: decodes to exactly Twilio's string.
                    writer.WritePropertyName(key);
                    writer.WriteRawValue(payload[start..checked((int)reader.BytesConsumed)], skipInputValidation: true);
                    dataBytes += UnescapedLength(ref reader);
                    break;
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    reader.Skip();
                    var raw = payload[start..checked((int)reader.BytesConsumed)];
                    writer.WriteString(key, raw);
                    dataBytes += raw.Length;
                    break;
                default:
                    // Number, true, false, null: their JSON text.
                    writer.WriteString(key, reader.ValueSpan);
                    dataBytes += reader.ValueSpan.Length;
                    break;
            }
        }

        // The reader stopped on the object's end; anything after it is not one JSON object.
        return reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0 && !reader.Read();
    }

    private static int UnescapedLength(ref Utf8JsonReader reader)
    {
        var escaped = reader.ValueSpan;
        var rented = ArrayPool<byte>.Shared.Rent(escaped.Length);
        try
        {
            return reader.CopyString(rented);
        }
        catch (InvalidOperationException)
        {
            // An escaped lone surrogate has no UTF-8 form; count the escaped text, which is never shorter.
            return escaped.Length;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <param name="Body">The request body, or null when the payload is not one JSON object.</param>
    /// <param name="DataBytes">The UTF-8 bytes of the data keys and values, as FCM counts them.</param>
    public readonly record struct Result(ReadOnlyMemory<byte>? Body, long DataBytes)
    {
        public bool IsTooLarge => DataBytes > MaxDataBytes;
    }
}
