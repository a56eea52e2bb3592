using System.Buffers;
using System.Globalization;
using CallNotify.Api.Http;
using CallNotify.Application.Calls.ReceiveCallNotification;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CallNotify.Api.Endpoints;

/// <summary><c>POST /calls/notificationWebhook</c>: Twilio's Client Call Notification Webhook.</summary>
public static class TwilioWebhook
{
    public const string Path = "/calls/notificationWebhook";
    public const int MaxBodyBytes = 64 * 1024;
    public const int RetryAfterSeconds = 1;

    public static IEndpointRouteBuilder MapTwilioWebhook(this IEndpointRouteBuilder app)
    {
        app.MapPost(Path, Receive)
            .WithName("ReceiveCallNotification")
            .WithTags("Twilio webhook")
            .WithSummary("Receive one call notification from Twilio and deliver it to every active client of the callee")
            .WithDescription(
                "Twilio's Client Call Notification Webhook. The body is the JSON Twilio sends; it is recorded and delivered, "
                + "unmodified, to every active binding and live WebSocket session of `twi_to` (`client:<identity>`) in the account "
                + "of `twi_account_sid`. A repeated `twi_message_id` is answered from its recorded outcome and sends nothing again.")
            .Accepts<object>("application/json")
            .SecuredBy(OpenApiDescription.TwilioSignatureScheme)
            .Answers(StatusCodes.Status200OK, "Delivered: a delivery was accepted (a provider answered 2xx, or a WebSocket frame was written); the others go on.")
            .Answers(StatusCodes.Status400BadRequest, "Not a call notification: not a JSON object, or a required `twi_*` field missing, not a string or malformed (`twi_to` must be `client:<identity>`); the field is named.")
            .Answers(StatusCodes.Status403Forbidden, "`X-Twilio-Signature` or `bodySHA256` does not match, or the account in `twi_account_sid` is not configured.")
            .Answers(StatusCodes.Status404NotFound, "The callee has no active binding or connected session, or every binding turned out dead.")
            .Answers(StatusCodes.Status413PayloadTooLarge, "The body is over 64 KiB.")
            .AnswersUnsupportedMediaType()
            .Answers(StatusCodes.Status429TooManyRequests, "Too many requests from this address failed the signature check (`RateLimits:FailedSignaturesPerMinute`); retry after `Retry-After` seconds. Signed requests are never throttled.")
            .Answers(StatusCodes.Status503ServiceUnavailable, "Not delivered yet: no delivery accepted within `Dispatch:ResponseDeadlineMilliseconds`, all failed for retryable reasons, or the store is unavailable. Retry after `Retry-After` seconds; deliveries go on being retried while the invite lives.");
        return app;
    }

    internal static async Task<Results<Ok, ProblemHttpResult>> Receive(
        HttpRequest request,
        ISender sender,
        IOptions<WebhookUrlOptions> twilio,
        FailedSignatureLimiter failures,
        CancellationToken cancellationToken)
    {
        var body = await ReadBodyAsync(request, cancellationToken);
        if (body is null)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Payload too large", $"The body is over {MaxBodyBytes} bytes.");
        }

        var command = new ReceiveCallNotificationCommand(
            WebhookUrl.For(request, twilio.Value.WebhookUrl),
            request.Headers["X-Twilio-Signature"].ToString(),
            body);
        var result = await sender.Send(command, cancellationToken);
        switch (result.Verdict)
        {
            case WebhookVerdict.Delivered:
                return TypedResults.Ok();
            case WebhookVerdict.NoActiveClients:
                return Problem(StatusCodes.Status404NotFound, "No active client", "The callee has no active binding or connected session.");
            case WebhookVerdict.Forbidden when !failures.TryCountFailure(request.HttpContext):
                request.HttpContext.Response.Headers.RetryAfter = "60";
                return Problem(StatusCodes.Status429TooManyRequests, "Too many requests", "Too many requests failed the signature check.");
            case WebhookVerdict.Forbidden:
                return Problem(StatusCodes.Status403Forbidden, "Forbidden", result.Detail);
            case WebhookVerdict.Invalid:
                return TypedResults.Problem(new HttpValidationProblemDetails(
                    new Dictionary<string, string[]> { [result.Field ?? "body"] = [result.Detail ?? "Invalid."] })
                {
                    Status = StatusCodes.Status400BadRequest,
                    Title = "The body is not a call notification.",
                });
            default:
                request.HttpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return Problem(StatusCodes.Status503ServiceUnavailable, "Not delivered", "No client accepted the notification in time; deliveries are still being tried.");
        }
    }

    /// <summary>The status and title the webhook answers a verdict with (a test call reports them).</summary>
    internal static (int Status, string Title) Answer(WebhookVerdict verdict) => verdict switch
    {
        WebhookVerdict.Delivered => (StatusCodes.Status200OK, "Delivered"),
        WebhookVerdict.NoActiveClients => (StatusCodes.Status404NotFound, "No active client"),
        WebhookVerdict.Forbidden => (StatusCodes.Status403Forbidden, "Forbidden"),
        WebhookVerdict.Invalid => (StatusCodes.Status400BadRequest, "The body is not a call notification."),
        _ => (StatusCodes.Status503ServiceUnavailable, "Not delivered"),
    };

    /// <summary>The body, or null when it is over the limit. Reads no more than the limit allows.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return null;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(MaxBodyBytes + 1);
        try
        {
            var length = 0;
            int read;
            while ((read = await request.Body.ReadAsync(buffer.AsMemory(length, MaxBodyBytes + 1 - length), cancellationToken)) > 0)
            {
                length += read;
                if (length > MaxBodyBytes)
                {
                    return null;
                }
            }

            return buffer.AsSpan(0, length).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ProblemHttpResult Problem(int status, string title, string? detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title);
}
