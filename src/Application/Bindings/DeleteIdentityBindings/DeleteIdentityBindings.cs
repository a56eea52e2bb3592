using CallNotify.Application.Common.Ports;
using CallNotify.Domain.Common;
using Mediator;

namespace CallNotify.Application.Bindings.DeleteIdentityBindings;

/// <summary>
/// Sign-out everywhere: the WebSocket tokens issued to (account, identity) until now are refused from now on, its live
/// sessions end, and every binding of it is removed. Returns how many bindings were.
/// </summary>
public sealed record DeleteIdentityBindingsCommand(string? AccountSid, string? Identity) : ICommand<int>;

public sealed class DeleteIdentityBindingsHandler(
    IBindingRepository bindings,
    ISignOuts signOuts,
    IIdentitySessions sessions,
    TimeProvider time) : ICommandHandler<DeleteIdentityBindingsCommand, int>
{
    public async ValueTask<int> Handle(DeleteIdentityBindingsCommand command, CancellationToken cancellationToken)
    {
        var accountSid = AccountSid.Parse(command.AccountSid);
        var identity = ClientIdentity.Parse(command.Identity);
        var now = time.GetUtcNow();

        // First the mark (no session can start with an old token any more), then the sessions, then the bindings.
        await signOuts.RecordAsync(accountSid, identity, now, cancellationToken);
        await sessions.EndSignedOutAsync(accountSid, identity, now, cancellationToken);
        return await bindings.DeleteAllAsync(accountSid, identity, cancellationToken);
    }
}
