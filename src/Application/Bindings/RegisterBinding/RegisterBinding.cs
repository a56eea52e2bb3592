using CallNotify.Application.Common.Exceptions;
using CallNotify.Application.Common.Options;
using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Bindings;
using CallNotify.Domain.Common;
using Mediator;
using Microsoft.Extensions.Options;

namespace CallNotify.Application.Bindings.RegisterBinding;

/// <summary>Registers a push binding, or refreshes the one that already holds (channel, address).</summary>
public sealed record RegisterBindingCommand(
    string? AccountSid,
    string? Identity,
    string? Channel,
    string? Address,
    string? Environment,
    string? AppId) : ICommand<RegisterBindingResult>;

/// <param name="Created">True when a new binding was made; false when an existing one was refreshed.</param>
public sealed record RegisterBindingResult(BindingDto Binding, bool Created);

public sealed class RegisterBindingHandler(
    IBindingRepository bindings,
    IOptions<BindingOptions> options,
    TimeProvider time) : ICommandHandler<RegisterBindingCommand, RegisterBindingResult>
{
    private const int MaxAttempts = 3;

    public async ValueTask<RegisterBindingResult> Handle(RegisterBindingCommand command, CancellationToken cancellationToken)
    {
        var accountSid = AccountSid.Parse(command.AccountSid);
        var identity = ClientIdentity.Parse(command.Identity);
        var channel = ChannelKinds.ParseBindingChannel(command.Channel);
        var address = PushAddress.Parse(channel, command.Address);
        var environment = ApnsEnvironments.Parse(command.Environment);
        var ttl = options.Value.Ttl;

        // The latest registration wins. Two registrations of one (channel, address) may race: the loser of the
        // insert finds the winner's row on its next pass and refreshes it.
        for (var attempt = 1; ; attempt++)
        {
            var now = time.GetUtcNow();
            var existing = await bindings.FindByAddressAsync(channel, address.Value, cancellationToken);
            if (existing is not null)
            {
                var updated = await bindings.UpdateAsync(
                    existing.Id,
                    b =>
                    {
                        b.Reregister(accountSid, identity, environment, command.AppId, now, ttl);
                        return true;
                    },
                    cancellationToken);
                if (updated is not null)
                {
                    await DeactivateBeyondLimitAsync(accountSid, identity, updated.Id, now, cancellationToken);
                    return new RegisterBindingResult(BindingDto.From(updated), Created: false);
                }
            }
            else
            {
                var binding = Binding.Register(accountSid, identity, channel, address, environment, command.AppId, now, ttl);
                try
                {
                    await bindings.AddAsync(binding, cancellationToken);
                    await DeactivateBeyondLimitAsync(accountSid, identity, binding.Id, now, cancellationToken);
                    return new RegisterBindingResult(BindingDto.From(binding), Created: true);
                }
                catch (ConflictException) when (attempt < MaxAttempts)
                {
                    // Someone registered the same address a moment ago: refresh theirs.
                }
            }

            if (attempt >= MaxAttempts)
            {
                throw new ConflictException("The binding changed concurrently; try again.");
            }
        }
    }

    private Task<int> DeactivateBeyondLimitAsync(AccountSid accountSid, ClientIdentity identity, string keepId, DateTimeOffset now, CancellationToken cancellationToken) =>
        BindingLimit.EnforceAsync(bindings, accountSid, identity, options.Value.MaxPerIdentity, keepId, now, cancellationToken);
}
