package audit

import "context"

// Actor is who acts and from where, carried in the context from the web or CLI adapter to
// the store, which writes it into every entry.
type Actor struct {
	UserID string // a user id, or "system" for the service itself, "cli" for the command line
	Source string // the client's IP address, or "cli"
}

type actorKey struct{}

// WithActor returns a context that carries a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx, or the system actor when there is none.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{UserID: "system", Source: "system"}
}
