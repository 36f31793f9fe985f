// Compiles the two contracts the crypto-proxy tests deploy on their local chain and writes their ABI
// and creation bytecode to tests/helpers/evm/contracts.json, so tests need no compiler at run time.
// Run once after changing a contract: node scripts/evm/compile-test-contracts.mjs
// Uses solc-js 0.8.26 (npm `solc`, installed with hardhat 2), optimizer on, 200 runs, evmVersion paris.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const solc = createRequire(import.meta.url)("solc");

const SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity 0.8.26;

contract TestToken {
    string public name = "Talon Test Token";
    string public symbol = "TTT";
    uint8 public constant decimals = 18;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;
    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);
    error InsufficientBalance(uint256 available, uint256 required);

    constructor(address holder, uint256 supply) {
        totalSupply = supply;
        balanceOf[holder] = supply;
        emit Transfer(address(0), holder, supply);
    }

    function transfer(address to, uint256 value) external returns (bool) {
        _move(msg.sender, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        require(allowance[from][msg.sender] >= value, "allowance too low");
        allowance[from][msg.sender] -= value;
        _move(from, to, value);
        return true;
    }

    function _move(address from, address to, uint256 value) internal {
        if (balanceOf[from] < value) revert InsufficientBalance(balanceOf[from], value);
        balanceOf[from] -= value;
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }
}

contract Reverter {
    function fail() external pure {
        revert("Reverter: always fails");
    }

    function panic(uint256 x) external pure returns (uint256) {
        return 10 / x;
    }

    receive() external payable {
        revert("Reverter: no ether");
    }
}
`;

const input = {
  language: "Solidity",
  sources: { "TestContracts.sol": { content: SOURCE } },
  settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "paris", outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } } },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (out.errors ?? []).filter((e) => e.severity === "error");
if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join("\n"));
const result = { compiler: `solc-js ${solc.version()}`, source: SOURCE, contracts: {} };
for (const [name, c] of Object.entries(out.contracts["TestContracts.sol"])) {
  result.contracts[name] = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
}
const file = path.join(import.meta.dirname, "../../tests/helpers/evm/contracts.json");
fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), file)}`);
