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
        var group = admin.MapGroup("/bindings").WithTags("Bindings");
        group.MapPost("/", Register).WithName("RegisterBinding").ProducesValidationProblem();
        group.MapGet("/", List).WithName("ListBindings").ProducesValidationProblem();
        group.MapGet("/{id}", Get).WithName("GetBinding");
        group.MapDelete("/{id}", Delete).WithName("DeleteBinding");
        group.MapDelete("/", DeleteAll).WithName("DeleteIdentityBindings").ProducesValidationProblem();
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
