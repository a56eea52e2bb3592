using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;

namespace CallNotify.Application.Bindings;

/// <summary>A binding as the admin API shows it.</summary>
public sealed record BindingDto(
    string Id,
    string AccountSid,
    string Identity,
    string Channel,
    string Address,
    string Environment,
    string? AppId,
    string Status,
    string? InactiveReason,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? LastDeliveryAt)
{
    public static BindingDto From(Binding binding) => new(
        binding.Id,
        binding.AccountSid.Value,
        binding.Identity.Value,
        binding.Channel.ToWire(),
        binding.Address.Value,
        binding.Environment.ToWire(),
        binding.AppId,
        binding.Status.ToWire(),
        binding.InactiveReason,
        binding.CreatedAt,
        binding.UpdatedAt,
        binding.ExpiresAt,
        binding.LastDeliveryAt);
}
