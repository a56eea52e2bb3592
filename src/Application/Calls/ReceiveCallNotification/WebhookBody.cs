using System.Text.Json;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;

namespace CallNotify.Application.Calls.ReceiveCallNotification;

/// <summary>
/// The fields of a call-notification body that routing needs. The body itself is never re-serialised: clients
/// get the bytes Twilio sent.
/// </summary>
public sealed record WebhookBody(
    AccountSid AccountSid,
    string CallSid,
    string MessageId,
    string MessageType,
    string To,
    string? From,
    ClientIdentity Identity)
{
    /// <summary>Deeper than any body Twilio sends; deeper input is refused before it costs anything.</summary>
    public const int MaxDepth = 16;

    private const string AccountSidField = "twi_account_sid";
    private const string CallSidField = "twi_call_sid";
    private const string MessageIdField = "twi_message_id";
    private const string MessageTypeField = "twi_message_type";
    private const string ToField = "twi_to";
    private const string FromField = "twi_from";

    /// <summary>Reads the body; on failure <paramref name="error"/> names the field at fault (or <c>body</c>).</summary>
    public static bool TryParse(ReadOnlySpan<byte> json, out WebhookBody? body, out WebhookBodyError? error)
    {
        body = null;
        string? accountSid = null, callSid = null, messageId = null, messageType = null, to = null, from = null;

        // The reader does not check the UTF-8 of values it skips; clients must never get invalid text frames.
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            error = new WebhookBodyError("body", "The body is not valid UTF-8.");
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = new WebhookBodyError("body", "The body must be a JSON object.");
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString()!;
                reader.Read();
                ref var slot = ref SlotFor(name, ref accountSid, ref callSid, ref messageId, ref messageType, ref to, ref from, out var known);
                if (!known)
                {
                    reader.Skip();
                    continue;
                }

                if (slot is not null)
                {
                    // A repeated routing field could be read one way by us and another by the client SDK.
                    error = new WebhookBodyError(name, $"'{name}' appears more than once.");
                    return false;
                }

                if (reader.TokenType != JsonTokenType.String)
                {
                    error = new WebhookBodyError(name, $"'{name}' must be a string.");
                    return false;
                }

                slot = reader.GetString();
            }

            // Whatever follows the object must be nothing at all.
            if (reader.Read())
            {
                error = new WebhookBodyError("body", "The body must hold one JSON object and nothing else.");
                return false;
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // Malformed JSON, invalid UTF-8 in a string, or nesting deeper than MaxDepth.
            error = new WebhookBodyError("body", "The body is not well-formed JSON.");
            return false;
        }

        const int max = CallNotification.MaxFieldLength;
        if (!Require(AccountSidField, accountSid, max, out error)
            || !Require(CallSidField, callSid, max, out error)
            || !Require(MessageIdField, messageId, max, out error)
            || !Require(ToField, to, ClientIdentity.ClientPrefix.Length + ClientIdentity.MaxLength, out error)
            || !Require(MessageTypeField, messageType, max, out error))
        {
            return false;
        }

        // Nothing Twilio sends holds control characters, and a stored field cannot (PostgreSQL text takes no NUL).
        if (from is not null && Text.HasControlCharacter(from))
        {
            error = new WebhookBodyError(FromField, $"'{FromField}' must not contain control characters.");
            return false;
        }

        if (!AccountSid.TryParse(accountSid, out var sid))
        {
            error = new WebhookBodyError(AccountSidField, $"'{AccountSidField}' must be {AccountSid.Format}.");
            return false;
        }

        if (!ClientIdentity.TryFromClientAddress(to, out var identity))
        {
            error = new WebhookBodyError(ToField, $"'{ToField}' must be 'client:<identity>' with an identity of 1 to {ClientIdentity.MaxLength} characters.");
            return false;
        }

        body = new WebhookBody(sid, callSid!, messageId!, messageType!, to!, from, identity);
        error = null;
        return true;
    }

    private static ref string? SlotFor(
        string name,
        ref string? accountSid,
        ref string? callSid,
        ref string? messageId,
        ref string? messageType,
        ref string? to,
        ref string? from,
        out bool known)
    {
        known = true;
        switch (name)
        {
            case AccountSidField: return ref accountSid;
            case CallSidField: return ref callSid;
            case MessageIdField: return ref messageId;
            case MessageTypeField: return ref messageType;
            case ToField: return ref to;
            case FromField: return ref from;
            default:
                known = false;
                return ref from;
        }
    }

    private static bool Require(string field, string? value, int maxLength, out WebhookBodyError? error)
    {
        if (string.IsNullOrEmpty(value))
        {
            error = new WebhookBodyError(field, $"'{field}' is required.");
            return false;
        }

        if (value.Length > maxLength)
        {
            error = new WebhookBodyError(field, $"'{field}' is too long.");
            return false;
        }

        if (Text.HasControlCharacter(value))
        {
            error = new WebhookBodyError(field, $"'{field}' must not contain control characters.");
            return false;
        }

        error = null;
        return true;
    }
}

public sealed record WebhookBodyError(string Field, string Message);
