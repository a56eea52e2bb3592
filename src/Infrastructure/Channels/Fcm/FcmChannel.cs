using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace CallNotify.Infrastructure.Channels.Fcm;

/// <summary>
/// Delivers to an Android (or any FCM) client: one FCM HTTP v1 data message per attempt, holding every top-level
/// field of the webhook body, high priority, living as long as the invite. Provider answers become delivery results;
/// this channel never retries by itself (the dispatcher does, within the invite).
/// </summary>
internal sealed class FcmChannel(
    HttpClient http,
    IFcmAccessTokenSource tokens,
    FcmCircuit circuit,
    TimeProvider time,
    ILogger<FcmChannel> logger) : INotificationChannel
{
    /// <summary>FCM's longest TTL (28 days); an invite never comes near it.</summary>
    internal const int MaxTtlSeconds = 28 * 24 * 3600;

    /// <summary>How long a send waits for an access token (the exchange itself carries on for the next send).</summary>
    internal static readonly TimeSpan TokenTimeout = TimeSpan.FromSeconds(10);

    private const int MaxErrorBodyBytes = 64 * 1024;

    public ChannelKind Kind => ChannelKind.Fcm;

    public async ValueTask<DeliveryResult> SendAsync(ChannelMessage message, CancellationToken cancellationToken)
    {
        var token = PushAddress.Redact(message.Address);
        var remaining = message.InviteExpiresAt - time.GetUtcNow();
        if (remaining <= TimeSpan.Zero)
        {
            logger.LogDebug("FCM delivery {DeliveryId} to token {Token} not sent: the invite has expired", message.DeliveryId, token);
            return DeliveryResult.Failed(DeliveryErrors.InviteExpired);
        }

        var ttlSeconds = (int)Math.Clamp(Math.Floor(remaining.TotalSeconds), 1, MaxTtlSeconds);
        var built = FcmMessage.Write(message.Payload.Span, message.Address, ttlSeconds);
        if (built.Body is not { } body)
        {
            logger.LogError("FCM delivery {DeliveryId} to token {Token} not sent: the webhook body is not one JSON object", message.DeliveryId, token);
            return DeliveryResult.Failed(FcmErrors.InvalidPayload);
        }

        if (built.IsTooLarge)
        {
            logger.LogWarning(
                "FCM delivery {DeliveryId} to token {Token} not sent: its data is {DataBytes} bytes, over FCM's {MaxDataBytes}",
                message.DeliveryId, token, built.DataBytes, FcmMessage.MaxDataBytes);
            return DeliveryResult.Failed(DeliveryErrors.PayloadTooLarge);
        }

        var (accessToken, tokenFailure) = await GetAccessTokenAsync(message, token, cancellationToken);
        if (accessToken is null)
        {
            return tokenFailure;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/projects/{Uri.EscapeDataString(tokens.ProjectId)}/messages:send");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        request.Content = new ReadOnlyMemoryContent(body);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Options.Set(ProviderCircuit.DeviceKey, message.Address);

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (BrokenCircuitException)
        {
            var wait = circuit.Circuit.RemainingBreak(FcmCircuit.Key);
            logger.LogWarning(
                "FCM delivery {DeliveryId} to token {Token} not sent: the circuit is open after repeated FCM failures; retry in {RetryAfter}",
                message.DeliveryId, token, wait);
            return DeliveryResult.Retry(FcmErrors.CircuitOpen, wait);
        }
        catch (TimeoutRejectedException)
        {
            logger.LogWarning("FCM delivery {DeliveryId} to token {Token}: no answer in time", message.DeliveryId, token);
            return DeliveryResult.Retry(FcmErrors.Timeout);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("FCM delivery {DeliveryId} to token {Token}: no answer in time", message.DeliveryId, token);
            return DeliveryResult.Retry(FcmErrors.Timeout);
        }
        catch (HttpRequestException ex)
        {
            logger.LogWarning("FCM delivery {DeliveryId} to token {Token}: transport error {Error}", message.DeliveryId, token, ex.HttpRequestError);
            return DeliveryResult.Retry(FcmErrors.TransportError);
        }

        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                logger.LogDebug("FCM accepted delivery {DeliveryId} to token {Token}", message.DeliveryId, token);
                return DeliveryResult.Accepted();
            }

            var error = FcmError.Parse(await ReadErrorBodyAsync(response, cancellationToken));
            return Map(response, error, message, token);
        }
    }

    private async ValueTask<(string? AccessToken, DeliveryResult Failure)> GetAccessTokenAsync(
        ChannelMessage message, string token, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(TokenTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return (await tokens.GetAccessTokenAsync(linked.Token), default);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogError("FCM delivery {DeliveryId} to token {Token} not sent: no access token within {Timeout}", message.DeliveryId, token, TokenTimeout);
            return (null, DeliveryResult.Retry(FcmErrors.TokenUnavailable));
        }
        catch (FcmCredentialException ex) when (ex.IsTransient)
        {
            logger.LogError("FCM delivery {DeliveryId} to token {Token} not sent: no access token for now: {Problem}", message.DeliveryId, token, ex.Message);
            return (null, DeliveryResult.Retry(FcmErrors.TokenUnavailable));
        }
        catch (FcmCredentialException ex)
        {
            logger.LogError(
                "FCM delivery {DeliveryId} to token {Token} failed: the service account got no access token ({Problem}); check Fcm:CredentialsFile",
                message.DeliveryId, token, ex.Message);
            return (null, DeliveryResult.Failed(FcmErrors.CredentialError));
        }
    }

    private DeliveryResult Map(HttpResponseMessage response, FcmError error, ChannelMessage message, string token)
    {
        var status = (int)response.StatusCode;
        var fcmMessage = Scrub(error.Message, message.Address);
        if (status >= 500)
        {
            var retryAfter = RetryAfter(response);
            var reason = response.StatusCode switch
            {
                HttpStatusCode.ServiceUnavailable => FcmErrors.Unavailable,
                HttpStatusCode.InternalServerError => FcmErrors.Internal,
                _ => FcmErrors.ServerError,
            };
            logger.LogWarning(
                "FCM delivery {DeliveryId} to token {Token}: FCM answered {Status} {Code}; retry after {RetryAfter}",
                message.DeliveryId, token, status, error.Code, retryAfter);
            return DeliveryResult.Retry(reason, retryAfter);
        }

        switch (error.Code)
        {
            case "UNREGISTERED":
                logger.LogInformation("FCM delivery {DeliveryId}: token {Token} is unregistered", message.DeliveryId, token);
                return DeliveryResult.ClientGone(InactiveReasons.Unregistered);
            case "SENDER_ID_MISMATCH":
                logger.LogInformation("FCM delivery {DeliveryId}: token {Token} belongs to another sender", message.DeliveryId, token);
                return DeliveryResult.ClientGone(InactiveReasons.SenderIdMismatch);
            case "INVALID_ARGUMENT" when error.IsAboutRegistrationToken:
                logger.LogInformation("FCM delivery {DeliveryId}: token {Token} is not a valid registration token ({FcmMessage})", message.DeliveryId, token, fcmMessage);
                return DeliveryResult.ClientGone(InactiveReasons.InvalidToken);
            case "INVALID_ARGUMENT":
                return InvalidArgument();
            case "QUOTA_EXCEEDED" or "RESOURCE_EXHAUSTED":
                return QuotaExceeded();
            case "THIRD_PARTY_AUTH_ERROR" or "UNAUTHENTICATED" or "PERMISSION_DENIED":
                return CredentialError();
            default:
                break;
        }

        switch (response.StatusCode)
        {
            case HttpStatusCode.BadRequest:
                return InvalidArgument();
            case HttpStatusCode.TooManyRequests:
                return QuotaExceeded();
            case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden:
                return CredentialError();
            default:
                logger.LogError(
                    "FCM delivery {DeliveryId} to token {Token} failed: FCM answered {Status} {Code}: {FcmMessage}",
                    message.DeliveryId, token, status, error.Code, fcmMessage);
                return DeliveryResult.Failed(FcmErrors.Unexpected);
        }

        DeliveryResult InvalidArgument()
        {
            // FCM found the message itself invalid: a bug on our side, not the client's.
            logger.LogError(
                "FCM delivery {DeliveryId} to token {Token} failed: FCM refused the message as invalid ({Status} {Code}: {FcmMessage}); this is a CallNotify bug",
                message.DeliveryId, token, status, error.Code, fcmMessage);
            return DeliveryResult.Failed(FcmErrors.InvalidArgument);
        }

        DeliveryResult QuotaExceeded()
        {
            logger.LogError(
                "FCM delivery {DeliveryId} to token {Token} failed: the Firebase project's sending quota is exhausted ({Status} {Code}: {FcmMessage})",
                message.DeliveryId, token, status, error.Code, fcmMessage);
            return DeliveryResult.Failed(FcmErrors.QuotaExceeded);
        }

        DeliveryResult CredentialError()
        {
            logger.LogError(
                "FCM delivery {DeliveryId} to token {Token} failed: FCM refused our credentials ({Status} {Code}: {FcmMessage}); check the service account behind Fcm:CredentialsFile and the Firebase project's settings",
                message.DeliveryId, token, status, error.Code, fcmMessage);
            return DeliveryResult.Failed(FcmErrors.CredentialError);
        }
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta > TimeSpan.Zero ? delta : TimeSpan.Zero;
        }

        if (header?.Date is { } date)
        {
            var wait = date - time.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    /// <summary>
    /// The error body, at most 64 KiB and read within one attempt timeout; a body that cannot be read counts as none
    /// (the status still decides).
    /// </summary>
    private async Task<ReadOnlyMemory<byte>> ReadErrorBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(FcmRegistration.AttemptTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(linked.Token);
            var buffer = new ArrayBufferWriter<byte>(4096);
            while (buffer.WrittenCount < MaxErrorBodyBytes)
            {
                var read = await stream.ReadAsync(buffer.GetMemory(4096), linked.Token);
                if (read == 0)
                {
                    break;
                }

                buffer.Advance(read);
            }

            return buffer.WrittenMemory;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return ReadOnlyMemory<byte>.Empty;
        }
    }

    /// <summary>FCM's error text never quotes the token today; if it ever does, the log still gets only the redacted form.</summary>
    private static string? Scrub(string? text, string address) =>
        text is null || address.Length == 0 ? text : text.Replace(address, PushAddress.Redact(address), StringComparison.Ordinal);
}

/// <summary>Failure reasons this channel records (<c>lastError</c>), beside <see cref="DeliveryErrors"/>.</summary>
internal static class FcmErrors
{
    public const string InvalidPayload = "invalid-payload";
    public const string InvalidArgument = "invalid-argument";
    public const string QuotaExceeded = "quota-exceeded";
    public const string CredentialError = "credential-error";
    public const string TokenUnavailable = "token-unavailable";
    public const string TransportError = "transport-error";
    public const string Timeout = "timeout";
    public const string CircuitOpen = "circuit-open";
    public const string Unavailable = "unavailable";
    public const string Internal = "internal";
    public const string ServerError = "server-error";
    public const string Unexpected = "unexpected-response";
}
