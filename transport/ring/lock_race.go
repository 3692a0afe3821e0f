//go:build race

package ring

import "sync"

// raceLock orders the writer's stores and the readers' loads for the race
// detector, which cannot know that a read the writer may have torn is
// always discarded (see the package doc). Only race builds take it.
type raceLock struct{ sync.RWMutex }
