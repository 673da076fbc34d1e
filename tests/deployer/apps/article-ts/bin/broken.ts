// A type error, as a change to an app might bring: ts-node refuses to run it.
const port: number = 'four hundred and forty-three';
console.log(port);
