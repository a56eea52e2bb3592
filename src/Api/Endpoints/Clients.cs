using System.Text.Json.Serialization;
using CallNotify.Api.Http;
using CallNotify.Application.Bindings;
using CallNotify.Application.Bindings.RegisterBinding;
using CallNotify.Application.Clients;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace CallNotify.Api.Endpoints;

/// <summary>
/// The client endpoints (SPEC §6a): an app authenticates with the Twilio Access Token its backend already issues for
/// the Voice SDK, and registers, lists and unregisters its own devices, and reports which device received an invite.
/// </summary>
public static class Clients
{
    public static IEndpointRouteBuilder MapClientEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1")
            .AddEndpointFilter<ClientAuthenticationFilter>()
            .WithTags("Clients")
            .SecuredBy(OpenApiDescription.AccessTokenScheme)
            .AnswersStoreUnavailable()
            .Answers(StatusCodes.Status401Unauthorized, "No Access Token, or a bad one (malformed, not HS256, wrong signature, unknown API key for its account, account not served, expired or not yet valid beyond 60 s, no valid identity, or issued before the identity's sign-out); the detail says which.")
            .Answers(StatusCodes.Status403Forbidden, "The Access Token does not allow incoming calls (`grants.voice.incoming.allow`).")
            .Answers(StatusCodes.Status429TooManyRequests, "Too many requests from this identity or this address (`RateLimits:ClientPermitsPerMinute`); retry after `Retry-After` seconds.");

        group.MapPost("/registrations", Register)
            .WithName("RegisterDevice")
            .WithSummary("Register this device for the caller's calls (the Voice SDK's `register`)")
            .WithDescription("The same upsert as the admin API: the latest registration of a (`channel`, `address`) wins, whoever held it before.")
            .Answers(StatusCodes.Status201Created, "A new binding, at `Location`.")
            .Answers(StatusCodes.Status200OK, "The binding of this (`channel`, `address`) existed and is refreshed (and now the caller's).")
            .Answers(StatusCodes.Status400BadRequest, "A field is invalid (unknown channel, empty or over-long address, not an APNs device token, unknown environment); the fields are listed.")
            .Answers(StatusCodes.Status409Conflict, "The binding kept changing concurrently; try again.")
            .AnswersUnsupportedMediaType();
        group.MapGet("/registrations", List)
            .WithName("ListOwnDevices")
            .WithSummary("The caller's own bindings")
            .Answers(StatusCodes.Status200OK, "`{bindings}`: every binding of the caller's identity, active and inactive.");
        group.MapGet("/registrations/{id}", Get)
            .WithName("GetOwnDevice")
            .WithSummary("One of the caller's bindings")
            .Answers(StatusCodes.Status200OK, "The binding.")
            .Answers(StatusCodes.Status404NotFound, "No binding of the caller's identity has this id.");
        group.MapDelete("/registrations", Unregister)
            .WithName("UnregisterDevice")
            .WithSummary("Unregister this device (the Voice SDK's `unregister`)")
            .Answers(StatusCodes.Status204NoContent, "The caller's binding of (`channel`, `address`) is deleted.")
            .Answers(StatusCodes.Status400BadRequest, "`channel` or `address` is missing or invalid; the fields are listed.")
            .Answers(StatusCodes.Status404NotFound, "(`channel`, `address`) is not a binding of the caller's identity.")
            .AnswersUnsupportedMediaType();
        group.MapPost("/receipts", Receipt)
            .WithName("RecordReceipt")
            .WithSummary("This device received this invite")
            .WithDescription("The delivery of `twi_message_id` to the caller's binding of (`channel`, `address`) gets `acknowledgedAt` and an `acknowledged` event. Idempotent. WebSocket clients ack over their socket instead.")
            .Answers(StatusCodes.Status204NoContent, "The delivery is acknowledged (or already was).")
            .Answers(StatusCodes.Status400BadRequest, "A field is missing or invalid (`channel` must be `fcm`, `apns-voip` or `apns`); the fields are listed.")
            .Answers(StatusCodes.Status404NotFound, "The caller's identity had no delivery of that message on that device.")
            .AnswersUnsupportedMediaType();
        return app;
    }

    internal static async Task<Results<Created<BindingDto>, Ok<BindingDto>>> Register(
        RegisterDeviceRequest request, HttpContext context, ISender sender, CancellationToken cancellationToken)
    {
        var caller = ClientAuthenticationFilter.Caller(context);
        var result = await sender.Send(
            new RegisterBindingCommand(caller.AccountSid.Value, caller.Identity.Value, request.Channel, request.Address, request.Environment, request.AppId),
            cancellationToken);
        return result.Created
            ? TypedResults.Created($"/v1/registrations/{result.Binding.Id}", result.Binding)
            : TypedResults.Ok(result.Binding);
    }

    internal static async Task<Ok<OwnBindings>> List(HttpContext context, ISender sender, CancellationToken cancellationToken) =>
        TypedResults.Ok(new OwnBindings(await sender.Send(new ListOwnBindingsQuery(ClientAuthenticationFilter.Caller(context)), cancellationToken)));

    internal static async Task<Results<Ok<BindingDto>, ProblemHttpResult>> Get(string id, HttpContext context, ISender sender, CancellationToken cancellationToken) =>
        await sender.Send(new GetOwnBindingQuery(ClientAuthenticationFilter.Caller(context), id), cancellationToken) is { } binding
            ? TypedResults.Ok(binding)
            : NotFound("No binding of yours has this id.");

    internal static async Task<Results<NoContent, ProblemHttpResult>> Unregister(
        [FromBody] DeviceRequest request, HttpContext context, ISender sender, CancellationToken cancellationToken) =>
        await sender.Send(new UnregisterDeviceCommand(ClientAuthenticationFilter.Caller(context), request.Channel, request.Address), cancellationToken)
            ? TypedResults.NoContent()
            : NotFound("This (channel, address) is not a binding of yours.");

    internal static async Task<Results<NoContent, ProblemHttpResult>> Receipt(
        ReceiptRequest request, HttpContext context, ISender sender, CancellationToken cancellationToken) =>
        await sender.Send(new RecordReceiptCommand(ClientAuthenticationFilter.Caller(context), request.TwiMessageId, request.Channel, request.Address), cancellationToken)
            ? TypedResults.NoContent()
            : NotFound("You had no delivery of this message on this device.");

    private static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: detail);
}

public sealed record RegisterDeviceRequest(string? Channel, string? Address, string? Environment, string? AppId);

public sealed record DeviceRequest(string? Channel, string? Address);

public sealed record ReceiptRequest(
    [property: JsonPropertyName("twi_message_id")] string? TwiMessageId,
    string? Channel,
    string? Address);

public sealed record OwnBindings(IReadOnlyList<BindingDto> Bindings);
