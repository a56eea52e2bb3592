using CallNotify.Api.Http;
using CallNotify.Application.Bindings;
using CallNotify.Application.Bindings.DeleteBinding;
using CallNotify.Application.Bindings.DeleteIdentityBindings;
using CallNotify.Application.Bindings.GetBinding;
using CallNotify.Application.Bindings.ListBindings;
using CallNotify.Application.Bindings.RegisterBinding;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CallNotify.Api.Endpoints;

/// <summary><c>/admin/v1/bindings</c>: register, read and remove push bindings.</summary>
public static class Bindings
{
    public static RouteGroupBuilder MapBindings(this RouteGroupBuilder admin)
    {
        var group = admin.MapGroup("/bindings").WithTags("Bindings").AnswersStoreUnavailable();
        group.MapPost("/", Register)
            .WithName("RegisterBinding")
            .WithSummary("Register a push binding (upsert on channel and address)")
            .WithDescription(
                "The latest registration of a (`channel`, `address`) wins: its identity or account may move. A re-registration "
                + "refreshes the binding's TTL and reactivates it. `environment` (`production` or `sandbox`) and `appId` (the bundle id, "
                + "default `Apns:BundleId`) are for APNs.")
            .Answers(StatusCodes.Status200OK, "An existing binding of this channel and address, refreshed and active.")
            .Answers(StatusCodes.Status201Created, "A new binding; `Location` is its URL.")
            .Answers(StatusCodes.Status400BadRequest, "A field is invalid (unknown channel, empty address or over 4096 characters, malformed Account SID, identity over 256 characters) or the body is not JSON; the fields are listed.")
            .Answers(StatusCodes.Status409Conflict, "The binding kept changing concurrently; try again.")
            .AnswersUnsupportedMediaType();
        group.MapGet("/", List)
            .WithName("ListBindings")
            .WithSummary("List bindings, in a stable order, a page at a time")
            .WithDescription("Filtered by `accountSid`, `identity`, `channel` and `status`; `pageSize` at most 200; pass `nextPageToken` as `pageToken` for the next page.")
            .Answers(StatusCodes.Status200OK, "A page: `{bindings, nextPageToken}`, the token `null` on the last page.")
            .Answers(StatusCodes.Status400BadRequest, "A filter, `pageSize` or `pageToken` is invalid; the fields are listed.");
        group.MapGet("/{id}", Get)
            .WithName("GetBinding")
            .WithSummary("Read one binding")
            .Answers(StatusCodes.Status200OK, "The binding.")
            .Answers(StatusCodes.Status404NotFound, "No binding has this id.");
        group.MapDelete("/{id}", Delete)
            .WithName("DeleteBinding")
            .WithSummary("Delete one binding")
            .Answers(StatusCodes.Status204NoContent, "The binding is deleted.")
            .Answers(StatusCodes.Status404NotFound, "No binding has this id.");
        group.MapDelete("/", DeleteAll)
            .WithName("DeleteIdentityBindings")
            .WithSummary("Sign an identity out everywhere: delete all its bindings and end its live sessions")
            .WithDescription(
                "Deletes every binding of (`accountSid`, `identity`), closes its live WebSocket sessions on every instance (1008 `signed-out`; "
                + "they stop counting at once) and refuses the WebSocket tokens issued to it until now. The identity receives calls again once "
                + "it registers a binding or connects with a token issued afterwards.")
            .Answers(StatusCodes.Status200OK, "`{deleted}`: how many bindings of (`accountSid`, `identity`) were deleted.")
            .Answers(StatusCodes.Status400BadRequest, "`accountSid` or `identity` is missing or malformed; the fields are listed.");
        return admin;
    }

    internal static async Task<Results<Created<BindingDto>, Ok<BindingDto>>> Register(
        RegisterBindingRequest request, ISender sender, CancellationToken cancellationToken)
    {
        var result = await sender.Send(
            new RegisterBindingCommand(request.AccountSid, request.Identity, request.Channel, request.Address, request.Environment, request.AppId),
            cancellationToken);
        return result.Created
            ? TypedResults.Created($"/admin/v1/bindings/{result.Binding.Id}", result.Binding)
            : TypedResults.Ok(result.Binding);
    }

    internal static async Task<Ok<BindingPage>> List(
        string? accountSid,
        string? identity,
        string? channel,
        string? status,
        int? pageSize,
        string? pageToken,
        ISender sender,
        CancellationToken cancellationToken)
    {
        var page = await sender.Send(new ListBindingsQuery(accountSid, identity, channel, status, pageSize, pageToken), cancellationToken);
        return TypedResults.Ok(new BindingPage(page.Items, page.NextPageToken));
    }

    internal static async Task<Ok<BindingDto>> Get(string id, ISender sender, CancellationToken cancellationToken) =>
        TypedResults.Ok(await sender.Send(new GetBindingQuery(id), cancellationToken));

    internal static async Task<NoContent> Delete(string id, ISender sender, CancellationToken cancellationToken)
    {
        await sender.Send(new DeleteBindingCommand(id), cancellationToken);
        return TypedResults.NoContent();
    }

    internal static async Task<Ok<DeletedCount>> DeleteAll(string? accountSid, string? identity, ISender sender, CancellationToken cancellationToken) =>
        TypedResults.Ok(new DeletedCount(await sender.Send(new DeleteIdentityBindingsCommand(accountSid, identity), cancellationToken)));
}

public sealed record RegisterBindingRequest(
    string? AccountSid,
    string? Identity,
    string? Channel,
    string? Address,
    string? Environment,
    string? AppId);

public sealed record BindingPage(IReadOnlyList<BindingDto> Bindings, string? NextPageToken);

public sealed record DeletedCount(int Deleted);
