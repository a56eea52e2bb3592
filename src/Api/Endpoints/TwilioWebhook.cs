using System.Buffers;
using System.Globalization;
using CallNotify.Api.Http;
using CallNotify.Application.Calls.ReceiveCallNotification;
using CallNotify.Infrastructure.Configuration;
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
            .WithSummary("Twilio posts one incoming-call notification; it is delivered to every active client of the callee.")
            .Accepts<object>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    internal static async Task<Results<Ok, ProblemHttpResult>> Receive(
        HttpRequest request,
        ISender sender,
        IOptions<TwilioOptions> twilio,
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
