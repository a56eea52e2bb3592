using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace CallNotify.Infrastructure.Channels.Apns;

/// <summary>The two kinds of push CallNotify sends, with their topic suffix and Apple's payload limit.</summary>
internal sealed record ApnsPushType(ChannelKind Channel, string HeaderValue, string TopicSuffix, int MaxPayloadBytes)
{
    public static readonly ApnsPushType Voip = new(ChannelKind.ApnsVoip, "voip", ".voip", 5120);

    public static readonly ApnsPushType Alert = new(ChannelKind.Apns, "alert", "", 4096);
}

/// <summary>
/// Posts one push to APNs over the shared HTTP/2 client and turns Apple's answer into a <see cref="DeliveryResult"/>.
/// One attempt per call (the dispatcher retries), except that a token APNs calls expired is renewed and the request
/// sent once more.
/// </summary>
internal sealed class ApnsSender(
    IHttpClientFactory clients,
    ApnsJwtProvider tokens,
    ApnsCircuit circuit,
    IOptions<ApnsOptions> options,
    TimeProvider time,
    ILogger<ApnsSender> logger)
{
    public const string NoTopic = "no-topic";
    public const string BadTopic = "bad-topic";
    public const string CredentialError = "credential-error";
    public const string TransportError = "transport-error";
    public const string CircuitOpen = "circuit-open";

    public async ValueTask<DeliveryResult> SendAsync(
        ChannelMessage message, ApnsPushType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var appId = message.Registration.AppId;
        var bundle = string.IsNullOrWhiteSpace(appId) ? options.Value.BundleId : appId;
        if (string.IsNullOrWhiteSpace(bundle))
        {
            logger.LogWarning(
                "Delivery {DeliveryId} ({Channel}) not sent: the binding has no app id and {Section}:BundleId is not set",
                message.DeliveryId, type.Channel.ToWire(), ApnsOptions.Section);
            return DeliveryResult.Failed(NoTopic);
        }

        if (!ApnsOptions.IsBundleId(bundle))
        {
            // What APNs would answer (400 BadTopic), without sending a header value HTTP may not even carry.
            logger.LogWarning(
                "Delivery {DeliveryId} ({Channel}) not sent: the binding's app id is not a bundle id", message.DeliveryId, type.Channel.ToWire());
            return DeliveryResult.Failed(BadTopic);
        }

        if (payload.Length > type.MaxPayloadBytes)
        {
            logger.LogWarning(
                "Delivery {DeliveryId} ({Channel}) not sent: the payload is {Size} bytes, over APNs' {Limit}",
                message.DeliveryId, type.Channel.ToWire(), payload.Length, type.MaxPayloadBytes);
            return DeliveryResult.Failed(DeliveryErrors.PayloadTooLarge);
        }

        var push = new Push(message, type, bundle + type.TopicSuffix, payload);
        try
        {
            var token = tokens.Current;
            var answer = await PostAsync(push, token, cancellationToken);
            if (answer.IsExpiredProviderToken)
            {
                var renewed = tokens.Renew(token);
                if (renewed is null)
                {
                    return CredentialFailure(push, answer, "APNs rejected the provider token as expired again within 20 minutes of renewing it");
                }

                answer = await PostAsync(push, renewed, cancellationToken);
                if (answer.IsExpiredProviderToken)
                {
                    return CredentialFailure(push, answer, "APNs rejected a freshly issued provider token as expired");
                }
            }

            return Map(push, answer);
        }
        catch (BrokenCircuitException)
        {
            logger.LogDebug(
                "Delivery {DeliveryId} ({Channel}) not sent: the circuit to APNs is open", message.DeliveryId, type.Channel.ToWire());
            return DeliveryResult.Retry(CircuitOpen, circuit.Circuit.RemainingBreak(options.Value.EndpointFor(message.Registration.Environment).Authority));
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            logger.LogWarning(
                "Delivery {DeliveryId} ({Channel}, token {Token}) could not reach APNs: {Error}",
                message.DeliveryId, type.Channel.ToWire(), PushAddress.Redact(message.Address), Describe(ex));
            return DeliveryResult.Retry(TransportError);
        }
    }

    private async Task<Answer> PostAsync(Push push, ApnsJwt token, CancellationToken cancellationToken)
    {
        var message = push.Message;
        var endpoint = options.Value.EndpointFor(message.Registration.Environment);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, "/3/device/" + Uri.EscapeDataString(message.Address)))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ReadOnlyMemoryContent(push.Payload) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("bearer", token.Value);
        request.Options.Set(ProviderCircuit.DeviceKey, message.Address);
        request.Headers.TryAddWithoutValidation("apns-push-type", push.Type.HeaderValue);
        request.Headers.TryAddWithoutValidation("apns-topic", push.Topic);
        request.Headers.TryAddWithoutValidation("apns-priority", "10");
        request.Headers.TryAddWithoutValidation("apns-expiration", message.InviteExpiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        if (ApnsId(message.DeliveryId) is { } apnsId)
        {
            request.Headers.TryAddWithoutValidation("apns-id", apnsId);
        }

        var client = clients.CreateClient(ApnsRegistration.HttpClientName);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        var reason = response.IsSuccessStatusCode ? null : ReadReason(await response.Content.ReadAsByteArrayAsync(cancellationToken));
        return new Answer(response.StatusCode, reason, RetryAfter(response.Headers.RetryAfter));
    }

    private DeliveryResult Map(Push push, Answer answer)
    {
        var status = (int)answer.Status;
        var result = (status, answer.Reason) switch
        {
            (>= 200 and < 300, _) => DeliveryResult.Accepted(),
            (410, "ExpiredToken") => DeliveryResult.ClientGone(InactiveReasons.ExpiredToken),
            (410, _) => DeliveryResult.ClientGone(InactiveReasons.Unregistered),
            (400, "BadDeviceToken") => DeliveryResult.ClientGone(InactiveReasons.BadDeviceToken),
            (400, "DeviceTokenNotForTopic") => DeliveryResult.ClientGone(InactiveReasons.DeviceTokenNotForTopic),
            (403, _) => DeliveryResult.Failed(CredentialError),
            (413, _) => DeliveryResult.Failed(DeliveryErrors.PayloadTooLarge),
            (429 or >= 500, _) => DeliveryResult.Retry(KebabCase(answer.Reason) ?? $"http-{status}", answer.RetryAfter),
            _ => DeliveryResult.Failed(KebabCase(answer.Reason) ?? $"http-{status}"),
        };

        var level = result.Kind switch
        {
            DeliveryResultKind.Accepted => LogLevel.Debug,
            DeliveryResultKind.ClientGone => LogLevel.Information,
            DeliveryResultKind.Failed when result.Reason == CredentialError => LogLevel.Error,
            _ => LogLevel.Warning,
        };
        logger.Log(
            level,
            "APNs answered {Status} {ApnsReason} to delivery {DeliveryId} ({Channel}, topic {Topic}, token {Token}): {Result} {Reason}",
            status, answer.Reason, push.Message.DeliveryId, push.Type.Channel.ToWire(), push.Topic,
            PushAddress.Redact(push.Message.Address), result.Kind, result.Reason);
        return result;
    }

    private DeliveryResult CredentialFailure(Push push, Answer answer, string what)
    {
        logger.LogError(
            "{What} (status {Status}, reason {ApnsReason}); delivery {DeliveryId} ({Channel}) failed. Check the system clock and {Section}:KeyId/TeamId",
            what, (int)answer.Status, answer.Reason, push.Message.DeliveryId, push.Type.Channel.ToWire(), ApnsOptions.Section);
        return DeliveryResult.Failed(CredentialError);
    }

    private TimeSpan? RetryAfter(RetryConditionHeaderValue? header)
    {
        var delay = header?.Delta ?? (header?.Date is { } date ? date - time.GetUtcNow() : null);
        return delay is { } d ? (d < TimeSpan.Zero ? TimeSpan.Zero : d) : null;
    }

    /// <summary>Apple's <c>reason</c>, or null when the body is empty or not the documented JSON.</summary>
    private static string? ReadReason(byte[] body)
    {
        if (body.Length == 0)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("reason", out var reason)
                && reason.ValueKind == JsonValueKind.String
                ? reason.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The delivery id's UUID in canonical form, so Apple's logs and ours share an id.</summary>
    private static string? ApnsId(string deliveryId) =>
        deliveryId.StartsWith(Ids.DeliveryPrefix, StringComparison.Ordinal)
        && Guid.TryParseExact(deliveryId.AsSpan(Ids.DeliveryPrefix.Length), "N", out var id)
            ? id.ToString("D")
            : null;

    /// <summary><c>BadExpirationDate</c> → <c>bad-expiration-date</c>; anything but ASCII letters and digits is dropped.</summary>
    internal static string? KebabCase(string? reason)
    {
        if (string.IsNullOrEmpty(reason))
        {
            return null;
        }

        var text = new StringBuilder(reason.Length + 8);
        for (var i = 0; i < reason.Length && text.Length < 64; i++)
        {
            var c = reason[i];
            if (!char.IsAsciiLetterOrDigit(c))
            {
                continue;
            }

            var boundary = char.IsAsciiLetterUpper(c) && text.Length > 0
                && (!char.IsAsciiLetterUpper(reason[i - 1]) || (i + 1 < reason.Length && char.IsAsciiLetterLower(reason[i + 1])));
            if (boundary)
            {
                text.Append('-');
            }

            text.Append(char.ToLowerInvariant(c));
        }

        return text.Length == 0 ? null : text.ToString();
    }

    private static string Describe(Exception ex) =>
        ex switch
        {
            TimeoutRejectedException => "no answer in time",
            HttpRequestException { HttpRequestError: var error } => $"{error} ({ex.Message})",
            _ => ex.GetType().Name,
        };

    private sealed record Push(ChannelMessage Message, ApnsPushType Type, string Topic, ReadOnlyMemory<byte> Payload);

    private sealed record Answer(HttpStatusCode Status, string? Reason, TimeSpan? RetryAfter)
    {
        public bool IsExpiredProviderToken => Status == HttpStatusCode.Forbidden && Reason == "ExpiredProviderToken";
    }
}
