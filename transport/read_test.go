package transport

import (
	"reflect"
	"strings"

	"github.com/tickwire/tickwire/transport/tw"
)

// bodyTypes maps each Body type to its generated table type.
var bodyTypes = map[tw.Body]reflect.Type{
	tw.BodyHello: reflect.TypeFor[tw.Hello](), tw.BodyHelloReply: reflect.TypeFor[tw.HelloReply](),
	tw.BodySubscribe: reflect.TypeFor[tw.Subscribe](), tw.BodyUnsubscribe: reflect.TypeFor[tw.Unsubscribe](),
	tw.BodySnapshot: reflect.TypeFor[tw.Snapshot](), tw.BodyOrderAdded: reflect.TypeFor[tw.OrderAdded](),
	tw.BodyOrderExecuted: reflect.TypeFor[tw.OrderExecuted](), tw.BodyOrderCancelled: reflect.TypeFor[tw.OrderCancelled](),
	tw.BodyOrderReplaced: reflect.TypeFor[tw.OrderReplaced](), tw.BodyOrderDeleted: reflect.TypeFor[tw.OrderDeleted](),
	tw.BodyLevelChanged: reflect.TypeFor[tw.LevelChanged](), tw.BodyTrade: reflect.TypeFor[tw.Trade](),
	tw.BodyTradeBroken: reflect.TypeFor[tw.TradeBroken](), tw.BodyTradingState: reflect.TypeFor[tw.TradingState](),
	tw.BodyRegSho: reflect.TypeFor[tw.RegSho](), tw.BodyLuldCollar: reflect.TypeFor[tw.LuldCollar](),
	tw.BodyMwcbLevels: reflect.TypeFor[tw.MwcbLevels](), tw.BodyMwcbBreach: reflect.TypeFor[tw.MwcbBreach](),
	tw.BodyHeartbeat: reflect.TypeFor[tw.Heartbeat](), tw.BodyStatus: reflect.TypeFor[tw.Status](),
	tw.BodyServerError: reflect.TypeFor[tw.ServerError](),
}

// readBody calls every generated read accessor of m's table, and of the
// structs and vector elements it reaches, and returns a sum of what it read.
func readBody(m *Message) int {
	typ, ok := bodyTypes[m.Type()]
	if !ok {
		return 0
	}
	v := reflect.New(typ)
	tab := m.Table()
	v.MethodByName("Init").Call([]reflect.Value{reflect.ValueOf(tab.Bytes), reflect.ValueOf(tab.Pos)})
	return readValue(v)
}

// readValue calls the read accessors of the generated table or struct v.
func readValue(v reflect.Value) int {
	sum := 0
	t := v.Type()
	lengths := map[string]int{}
	for i := range t.NumMethod() {
		name := t.Method(i).Name
		if mt := t.Method(i).Type; strings.HasSuffix(name, "Length") && mt.NumIn() == 1 {
			lengths[strings.TrimSuffix(name, "Length")] = int(v.Method(i).Call(nil)[0].Int())
		}
	}
	for i := range t.NumMethod() {
		name, mt := t.Method(i).Name, t.Method(i).Type
		if strings.HasPrefix(name, "Mutate") || name == "Init" || name == "Table" || strings.HasSuffix(name, "Length") {
			continue
		}
		switch {
		case mt.NumIn() == 1 && mt.NumOut() == 1: // scalar, string, or bytes
			sum += weigh(v.Method(i).Call(nil)[0])
		case mt.NumIn() == 2 && mt.In(1).Kind() == reflect.Int: // vector element
			for j := range lengths[name] {
				sum += weigh(v.Method(i).Call([]reflect.Value{reflect.ValueOf(j)})[0])
			}
		case mt.NumIn() == 2 && mt.In(1).Kind() == reflect.Pointer: // struct
			if s := v.Method(i).Call([]reflect.Value{reflect.Zero(mt.In(1))})[0]; !s.IsNil() {
				sum += readValue(s)
			}
		case mt.NumIn() == 3: // vector of structs
			for j := range lengths[name] {
				obj := reflect.New(mt.In(1).Elem())
				if v.Method(i).Call([]reflect.Value{obj, reflect.ValueOf(j)})[0].Bool() {
					sum += readValue(obj)
				}
			}
		}
	}
	return sum
}

func weigh(v reflect.Value) int {
	switch v.Kind() {
	case reflect.Slice, reflect.String:
		return v.Len()
	case reflect.Bool:
		if v.Bool() {
			return 1
		}
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int(v.Uint())
	}
	return 0
}
