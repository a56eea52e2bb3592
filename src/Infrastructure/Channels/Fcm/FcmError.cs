using System.Text.Json;

namespace CallNotify.Infrastructure.Channels.Fcm;

/// <summary>
/// What an FCM error answer says: <c>{"error":{"code":…,"status":"…","message":"…","details":[…]}}</c>, where
/// <c>details</c> may hold a <c>google.firebase.fcm.v1.FcmError</c> (<c>errorCode</c>) and a
/// <c>google.rpc.BadRequest</c> (<c>fieldViolations</c>).
/// </summary>
internal sealed record FcmError(string? Status, string? ErrorCode, string? Message, IReadOnlyList<string> ViolatedFields)
{
    private const string FcmErrorType = "type.googleapis.com/google.firebase.fcm.v1.FcmError";
    private const string BadRequestType = "type.googleapis.com/google.rpc.BadRequest";

    public static readonly FcmError None = new(null, null, null, []);

    /// <summary>The FCM error code when given, else the RPC status (e.g. <c>INVALID_ARGUMENT</c>).</summary>
    public string? Code => ErrorCode ?? Status;

    /// <summary>An INVALID_ARGUMENT is about the registration token when FCM names the field or the token.</summary>
    public bool IsAboutRegistrationToken =>
        ViolatedFields.Any(f => string.Equals(f, "message.token", StringComparison.Ordinal))
        || (Message is { } m
            && (m.Contains("registration token", StringComparison.OrdinalIgnoreCase)
                || m.Contains("message.token", StringComparison.Ordinal)));

    /// <summary>Reads an error body; anything unreadable gives <see cref="None"/>.</summary>
    public static FcmError Parse(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty)
        {
            return None;
        }

        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("error", out var error)
                || error.ValueKind != JsonValueKind.Object)
            {
                return None;
            }

            string? errorCode = null;
            var fields = new List<string>();
            if (error.TryGetProperty("details", out var details) && details.ValueKind == JsonValueKind.Array)
            {
                foreach (var detail in details.EnumerateArray())
                {
                    switch (StringOf(detail, "@type"))
                    {
                        case FcmErrorType:
                            errorCode ??= StringOf(detail, "errorCode");
                            break;
                        case BadRequestType when detail.TryGetProperty("fieldViolations", out var violations)
                                                 && violations.ValueKind == JsonValueKind.Array:
                            fields.AddRange(violations.EnumerateArray().Select(v => StringOf(v, "field")).OfType<string>());
                            break;
                        default:
                            break;
                    }
                }
            }

            return new FcmError(StringOf(error, "status"), errorCode, StringOf(error, "message"), fields);
        }
        catch (JsonException)
        {
            return None;
        }
    }

    private static string? StringOf(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object
        && element.TryGetProperty(name, out var value)
        && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
