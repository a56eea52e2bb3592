using CallNotify.Application.Bindings;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using FluentValidation;
using Mediator;

namespace CallNotify.Application.Clients;

/// <summary>The caller's own bindings, all of them (an identity holds few: <c>Bindings:MaxPerIdentity</c> active).</summary>
public sealed record ListOwnBindingsQuery(ClientCaller Caller) : IQuery<IReadOnlyList<BindingDto>>;

public sealed class ListOwnBindingsHandler(IBindingRepository bindings) : IQueryHandler<ListOwnBindingsQuery, IReadOnlyList<BindingDto>>
{
    /// <summary>More than any identity keeps: active ones are capped, inactive ones expire.</summary>
    private const int Limit = 1000;

    public async ValueTask<IReadOnlyList<BindingDto>> Handle(ListOwnBindingsQuery query, CancellationToken cancellationToken)
    {
        var rows = await bindings.ListAsync(
            new BindingQuery(query.Caller.AccountSid, query.Caller.Identity, null, null, null, Limit), cancellationToken);
        return [.. rows.Select(BindingDto.From)];
    }
}

/// <summary>One of the caller's bindings; null when there is none by that id or it is someone else's (never told apart).</summary>
public sealed record GetOwnBindingQuery(ClientCaller Caller, string Id) : IQuery<BindingDto?>;

public sealed class GetOwnBindingHandler(IBindingRepository bindings) : IQueryHandler<GetOwnBindingQuery, BindingDto?>
{
    public async ValueTask<BindingDto?> Handle(GetOwnBindingQuery query, CancellationToken cancellationToken)
    {
        var binding = await bindings.GetAsync(query.Id, cancellationToken);
        return binding is not null && binding.BelongsTo(query.Caller.AccountSid, query.Caller.Identity)
            ? BindingDto.From(binding)
            : null;
    }
}

/// <summary>
/// The <c>unregister</c> of the Voice SDKs: deletes the caller's binding of (channel, address). False when that is not
/// a binding of the caller's identity; another identity's is never touched, nor said to exist.
/// </summary>
public sealed record UnregisterDeviceCommand(ClientCaller Caller, string? Channel, string? Address) : ICommand<bool>;

public sealed class UnregisterDeviceValidator : AbstractValidator<UnregisterDeviceCommand>
{
    public UnregisterDeviceValidator()
    {
        RuleFor(x => x.Channel).MustBePushChannel();
        RuleFor(x => x.Address).NotEmpty().MaximumLength(PushAddress.MaxLength);
    }
}

public sealed class UnregisterDeviceHandler(IBindingRepository bindings) : ICommandHandler<UnregisterDeviceCommand, bool>
{
    public async ValueTask<bool> Handle(UnregisterDeviceCommand command, CancellationToken cancellationToken)
    {
        var binding = await bindings.FindByAddressAsync(ChannelKinds.ParseBindingChannel(command.Channel), command.Address!, cancellationToken);
        if (binding is null || !binding.BelongsTo(command.Caller.AccountSid, command.Caller.Identity))
        {
            return false;
        }

        return await bindings.DeleteAsync(binding.Id, cancellationToken);
    }
}

internal static class PushChannelRules
{
    public static IRuleBuilderOptions<T, string?> MustBePushChannel<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(c => ChannelKinds.TryParse(c, out var kind) && kind.IsPush())
            .WithMessage("'{PropertyName}' must be one of 'fcm', 'apns-voip', 'apns'.");
}
