using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using Mediator;

namespace CallNotify.Application.Bindings.DeleteIdentityBindings;

/// <summary>Sign-out everywhere: removes every binding of (account, identity).</summary>
public sealed record DeleteIdentityBindingsCommand(string? AccountSid, string? Identity) : ICommand<int>;

public sealed class DeleteIdentityBindingsHandler(IBindingRepository bindings) : ICommandHandler<DeleteIdentityBindingsCommand, int>
{
    public async ValueTask<int> Handle(DeleteIdentityBindingsCommand command, CancellationToken cancellationToken) =>
        await bindings.DeleteAllAsync(AccountSid.Parse(command.AccountSid), ClientIdentity.Parse(command.Identity), cancellationToken);
}
