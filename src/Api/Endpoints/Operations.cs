using CallNotify.Api.Http;
using CallNotify.Application.Calls.ReceiveCallNotification;
using CallNotify.Application.Common.Ports;
using CallNotify.Application.Operations;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CallNotify.Api.Endpoints;

/// <summary>What the operator console reads and does beyond bindings and notifications (SPEC §7).</summary>
public static class Operations
{
    public static RouteGroupBuilder MapOperations(this RouteGroupBuilder admin)
    {
        admin.MapGet("/overview", Overview)
            .WithName("GetOverview")
            .WithTags("Operations")
            .WithSummary("The service at a glance")
            .WithDescription("The store and whether it answers, the instances alive and their live sessions, each channel on or off, and this instance's webhook answers and delivery attempts of the last minutes.")
            .Answers(StatusCodes.Status200OK, "`{store: {provider, reachable, instancesAlive, liveSessions}, channels, windowMinutes, webhooks: [{status, count}], deliveries: [{channel, outcome, count}]}`; `reachable` false (and the counts null) while the store is down.");
        admin.MapGet("/sessions", Sessions)
            .WithName("ListSessions")
            .WithTags("Operations")
            .WithSummary("The live WebSocket sessions of one identity, on every instance")
            .Answers(StatusCodes.Status200OK, "`{sessions: [{sessionId, instanceId, connectedAt}]}`.")
            .Answers(StatusCodes.Status400BadRequest, "`accountSid` or `identity` is missing or malformed; the fields are listed.")
            .AnswersStoreUnavailable();
        admin.MapPost("/test-calls", TestCall)
            .WithName("SendTestCall")
            .WithTags("Operations")
            .WithSummary("Send a test call through the real webhook path")
            .WithDescription("A call notification for (`accountSid`, `identity`) as Twilio sends it, signed here with the account's Auth Token, through the webhook's own handling. Its record's `from` is `client:callnotify-test-call` (`test: true`); its bridge token is a placeholder, so a real Voice SDK shows an invite it cannot answer.")
            .Answers(StatusCodes.Status200OK, "`{twiMessageId, answer: {status, title}}`: what the webhook answered (200 delivered, 404 nobody to ring, 503 nothing accepted in time).")
            .Answers(StatusCodes.Status400BadRequest, "`accountSid` or `identity` is missing or malformed, or the account is not served; the fields are listed.")
            .AnswersUnsupportedMediaType();
        return admin;
    }

    internal static async Task<Ok<Overview>> Overview(ISender sender, CancellationToken cancellationToken) =>
        TypedResults.Ok(await sender.Send(new GetOverviewQuery(), cancellationToken));

    internal static async Task<Ok<SessionList>> Sessions(string? accountSid, string? identity, ISender sender, CancellationToken cancellationToken)
    {
        var sessions = await sender.Send(new ListSessionsQuery(accountSid, identity), cancellationToken);
        return TypedResults.Ok(new SessionList([.. sessions.Select(s => new SessionDto(s.SessionId, s.InstanceId, s.ConnectedAt))]));
    }

    internal static async Task<Ok<TestCallAnswer>> TestCall(
        TestCallRequest request, HttpRequest http, ISender sender, IOptions<WebhookUrlOptions> twilio, CancellationToken cancellationToken)
    {
        // The URL Twilio would call: the configured one, or this service's own webhook address.
        var url = twilio.Value.WebhookUrl ?? $"{http.Scheme}://{http.Host}{TwilioWebhook.Path}";
        var call = await sender.Send(new PrepareTestCallCommand(request.AccountSid, request.Identity, url), cancellationToken);
        var result = await sender.Send(new ReceiveCallNotificationCommand(call.Url, call.Signature, call.Body), cancellationToken);
        var (status, title) = TwilioWebhook.Answer(result.Verdict);
        return TypedResults.Ok(new TestCallAnswer(call.TwiMessageId, new WebhookAnswer(status, title)));
    }
}

public sealed record TestCallRequest(string? AccountSid, string? Identity);

public sealed record TestCallAnswer(string TwiMessageId, WebhookAnswer Answer);

public sealed record WebhookAnswer(int Status, string Title);

public sealed record SessionList(IReadOnlyList<SessionDto> Sessions);

public sealed record SessionDto(string SessionId, string InstanceId, DateTimeOffset ConnectedAt);
